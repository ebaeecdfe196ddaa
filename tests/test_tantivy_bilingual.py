"""The Tantivy keyword index (large collections) is bilingual too: the sample searched through it."""

from __future__ import annotations

from datetime import date

import pytest

from paperlens.ingest.pipeline import ingest_paths
from paperlens.search.hybrid import HybridSearcher

from .conftest import SAMPLE

CHINESE_ABSTRACT = "h:ec0adae058e00db1"


@pytest.fixture(scope="module")
def tantivy_searcher(tmp_path_factory):
    from paperlens.store import Store

    store = Store(tmp_path_factory.mktemp("tantivy-bilingual") / "seeded.db")
    ingest_paths(store, sorted(SAMPLE.glob("*.txt")), as_of=date(2026, 11, 23))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PAPERLENS_KEYWORD_INDEX", "tantivy")
        searcher = HybridSearcher(store)
        assert searcher.text_index() is not None
        yield searcher
    store.close()


def test_chinese_words_and_topic_names(tantivy_searcher):
    assert tantivy_searcher.search_results("推理").total >= 20
    hits = tantivy_searcher.search("指令微调与对齐", limit=20, mode="keyword")
    assert sum(h.topic == "指令微调与对齐" for h in hits) >= 15


def test_cross_lingual_both_ways(tantivy_searcher):
    hits = tantivy_searcher.search("模型合并 流式更新", limit=10)
    assert any(h.title.startswith("Merging Beyond: Streaming LLM Updates") for h in hits)
    assert CHINESE_ABSTRACT in [h.id for h in tantivy_searcher.search("knowledge neurons", limit=10)]


def test_nonsense_and_names(tantivy_searcher):
    assert tantivy_searcher.search_results("xyzzyqwert").total == 0
    assert 1 <= tantivy_searcher.search_results("GuardSpace").total <= 5


def test_what_enrichment_adds_is_found_through_tantivy(tmp_path, monkeypatch):
    """Tantivy (above 10k papers) indexed the papers table only, so keywords, TL;DRs, summaries and topics that
    enrichment added were not searchable there; now its documents are the papers completed by their
    enrichments, and a later enrichment re-indexes the paper."""
    import json

    from paperlens.search.textindex import TantivyIndex
    from paperlens.store import Store

    source = tmp_path / "p.jsonl"
    source.write_text("".join(json.dumps({"id": f"arxiv:2612.{n:05d}", "title": f"Walrus study number {n}",
                                          "abstract": f"We count walrus tusks on beach {n}."}) + "\n"
                              for n in range(3)))
    store = Store(tmp_path / "t.db")
    ingest_paths(store, [source])
    pid = "arxiv:2612.00001"
    paper = store.get(pid)
    index = TantivyIndex(store, tmp_path / "idx")
    assert index.sync() == 3
    assert index.search(["zanzibarite"], 10) == []
    store.save_enrichments([{"paper_id": pid, "step": "keywords", "version": "1", "content_hash": paper.content_hash(),
                             "status": "ok", "output": {"keywords": ["zanzibarite"]}}])
    assert index.sync() == 1  # only the enriched paper
    assert len(index.search(["zanzibarite"], 10)) == 1
    assert index.sync() == 0  # nothing changed: the boundary digests keep unchanged papers out
    store.close()


def test_a_misspelling_gets_a_did_you_mean_through_tantivy(tantivy_searcher):
    """Tantivy's term dictionary gives the spellings (it answered no suggestion at all before)."""
    found = tantivy_searcher.search_results("mergign models")
    assert found.total == 0 and found.suggestion == "merging models"
    assert tantivy_searcher.search_results("xyzzyqwert").suggestion is None
    assert tantivy_searcher.search_results("merging models").suggestion is None


def test_total_counts_every_match_through_tantivy(tantivy_searcher):
    """The total is the papers holding every word, counted past the ranked depth (it was the length of the
    ranking: capped at the depth, and padded with papers that had only some of the words)."""
    found = tantivy_searcher.search_results("language model", mode="keyword", limit=5)
    assert len(found.hits) == 5 and found.total > 300
    some = tantivy_searcher.search_results("merging", mode="keyword", limit=5)
    both = tantivy_searcher.search_results("merging models", mode="keyword", limit=5)
    assert 5 < both.total <= some.total < 100


def test_the_bare_keyword_ranking_does_not_count(tantivy_searcher, monkeypatch):
    """Counting every match costs 5-15 ms at a million papers: only the results page pays for it."""
    from paperlens.search.textindex import TantivyIndex

    def no_count(self, terms):
        raise AssertionError("counted")

    monkeypatch.setattr(TantivyIndex, "count", no_count)
    assert len(tantivy_searcher.keyword("language model", 5)) == 5
    with pytest.raises(AssertionError, match="counted"):
        tantivy_searcher.search_results("language model", mode="keyword", limit=5)
