"""Hybrid search: keyword side, filters, hostile queries, highlighting, CLI."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from paperlens.cli import main
from paperlens.ingest.pipeline import ingest_paths
from paperlens.search.hybrid import HybridSearcher, SearchFilters, fts_expression, highlight, query_terms

from .conftest import SAMPLE


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    from paperlens.store import Store

    store = Store(tmp_path_factory.mktemp("search") / "seeded.db")
    ingest_paths(store, sorted(SAMPLE.glob("*.txt")), as_of=date(2026, 11, 23))
    yield store
    store.close()


def test_title_query_finds_the_paper_first(seeded):
    hits = HybridSearcher(seeded).search("Sens-Merging: Sensitivity-Guided Parameter Balancing", mode="keyword")
    assert hits[0].title.startswith("Sens-Merging")


def test_phrase_of_an_abstract_finds_it(seeded):
    hits = HybridSearcher(seeded).search("lightweight substitute for self-attention in well-trained LLMs",
                                         mode="keyword", limit=3)
    assert "LiSA" in seeded.get(hits[0].id).abstract


@pytest.mark.parametrize("query", ['"', '"unbalanced', "AND OR NOT", "NEAR(a b)", "title:foo", "a* ^b", "-x",
                                   "'; DROP TABLE papers; --", "x" * 10000, "模型 合并", "   ", "()", "\x00"])
def test_hostile_queries_never_fail(seeded, query):
    hits = HybridSearcher(seeded).search(query, mode="keyword")
    assert isinstance(hits, list)
    assert seeded.count() == 685  # nothing was dropped


def test_fts_expression_only_has_quoted_terms():
    assert fts_expression(query_terms('foo AND "bar" NEAR(baz)*')) == '"foo" "and" "bar" "near" "baz"'
    assert fts_expression(query_terms("")) is None


def test_filters(seeded):
    searcher = HybridSearcher(seeded)
    by_author = searcher.search("merging", mode="keyword", filters=SearchFilters(author="shuqi-liu"), limit=50)
    assert by_author and all("Shuqi Liu" in h.authors for h in by_author)
    years = searcher.search("language models", mode="keyword", filters=SearchFilters(year_from=2026), limit=50)
    assert years and all(h.year and h.year >= 2026 for h in years)
    code = searcher.search("merging", mode="keyword", filters=SearchFilters(has_code=True), limit=50)
    assert code and all(seeded.get(h.id).code_url or seeded.get(h.id).extra.get("code_badge") for h in code)
    topic = searcher.search("reasoning", mode="keyword", filters=SearchFilters(topic="推理与思维链"), limit=20)
    assert topic and all(h.topic == "推理与思维链" for h in topic)


def test_highlight_escapes_then_marks():
    snippet = highlight("<script>alert(1)</script> uses attention & more", ["attention", "amp", "script"])
    assert "<script>" not in snippet and "&lt;<mark>script</mark>&gt;" in snippet
    assert "<mark>attention</mark> &amp; more" in snippet


def test_cli_search_json(db_path):
    runner = CliRunner()
    runner.invoke(main, ["--db", str(db_path), "ingest", "--as-of", "2026-11-23", *map(str, SAMPLE.glob("*.txt"))])
    out = runner.invoke(main, ["--db", str(db_path), "search", "model merging", "--json", "--limit", "5",
                               "--mode", "keyword"])
    data = json.loads(out.output)
    assert len(data["results"]) == 5 and {"id", "title", "score"} <= set(data["results"][0])
    similar = runner.invoke(main, ["--db", str(db_path), "similar", data["results"][0]["id"], "--json"])
    found = json.loads(similar.output)["similar"]
    assert found and all(item["why"] for item in found)
    missing = runner.invoke(main, ["--db", str(db_path), "similar", "nope"])
    assert missing.exit_code != 0


def test_tantivy_backend_agrees_with_fts5(seeded, monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERLENS_KEYWORD_INDEX", "tantivy")
    tantivy_searcher = HybridSearcher(seeded)
    hits = tantivy_searcher.search("lightweight substitute for self-attention in well-trained LLMs", mode="keyword",
                                   limit=3)
    assert tantivy_searcher._text_index is not None
    assert "LiSA" in seeded.get(hits[0].id).abstract
    filtered = tantivy_searcher.search("merging", mode="keyword", filters=SearchFilters(author="shuqi-liu"), limit=50)
    monkeypatch.setenv("PAPERLENS_KEYWORD_INDEX", "fts5")
    fts = HybridSearcher(seeded).search("merging", mode="keyword", filters=SearchFilters(author="shuqi-liu"), limit=50)
    assert {h.id for h in filtered} == {h.id for h in fts}
    for query in ['"', "AND OR", "x" * 10000, "模型"]:
        assert isinstance(tantivy_searcher.search(query, mode="keyword"), list)


def test_tantivy_leaves_out_stopwords_only_when_other_words_remain(seeded, monkeypatch):
    monkeypatch.setenv("PAPERLENS_KEYWORD_INDEX", "tantivy")
    searcher = HybridSearcher(seeded)
    with_stopwords = searcher.search("the merging of the models", mode="keyword", limit=20)
    without = searcher.search("merging models", mode="keyword", limit=20)
    assert with_stopwords and [h.id for h in with_stopwords] == [h.id for h in without]
    assert searcher.search("the of", mode="keyword", limit=5)  # only stopwords: they are searched


def test_an_unusable_keyword_index_falls_back_to_fts5(seeded, monkeypatch):
    import paperlens.search.hybrid as hybrid_module

    class Unwritable:
        def __init__(self, store):
            raise OSError(30, "Read-only file system")

    monkeypatch.setenv("PAPERLENS_KEYWORD_INDEX", "tantivy")
    monkeypatch.setattr(hybrid_module, "TantivyIndex", Unwritable)
    searcher = HybridSearcher(seeded)
    with pytest.warns(UserWarning, match="using SQLite FTS5"):
        hits = searcher.search("lightweight substitute for self-attention", mode="keyword", limit=3)
    assert hits and "LiSA" in seeded.get(hits[0].id).abstract


@pytest.mark.parametrize("query", ["大语言模型", "LLM 推理", "reinforcement learning"])
def test_pages_are_slices_of_one_ranking(seeded, query):
    """Paging on past the first fused depth shows every paper once: deeper pages rank deeper lists, and
    the papers of the earlier pages must keep their places (before, page 6 repeated papers of pages 1-5)."""
    searcher = HybridSearcher(seeded)
    shown: list[str] = []
    for offset in range(0, 2000, 20):
        found = searcher.search_results(query, mode="keyword", limit=20, offset=offset)
        if not found.hits:
            break
        shown += [h.id for h in found.hits]
    assert len(shown) > 200 and len(shown) == len(set(shown))
    assert len(shown) == found.total  # none skipped: the last page's count is what the pages showed
