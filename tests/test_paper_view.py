"""Result lists read stored papers as rows.PaperView, without the pydantic models (issue 19: their import and
validators were half of a `paperlens search` process). A view holds the values `load` gives the same fields,
and search results built from views are those built from papers."""

from __future__ import annotations

from datetime import date

import pytest

from paperlens.core.highlight import paper_snippet
from paperlens.core.models import SUMMARY_FIELDS, Paper, SourceRef, Summary, Topic
from paperlens.ingest.pipeline import ingest_paths
from paperlens.search.hybrid import HybridSearcher
from paperlens.store import Store
from paperlens.store.rows import data_json, load, view

from .conftest import SAMPLE

QUERIES = ["reasoning", "large language models", "推理", "神经网络", "attention", "graph neural", "模型压缩",
           "diffusion", "the"]


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("view") / "p.db")
    ingest_paths(store, sorted(SAMPLE.glob("*.txt")), as_of=date(2026, 11, 23))
    yield store
    store.close()


def _same(paper: Paper, data: str) -> None:
    got = view(data)
    assert (got.id, got.title, got.year, got.authors, got.abstract, got.tldr) == \
        (paper.id, paper.title, paper.year, paper.authors, paper.abstract, paper.tldr)
    assert (got.topic is None) == (paper.topic is None)
    if paper.topic is not None:
        assert (got.topic.area, got.topic.label, got.topic.score) == (paper.topic.area, paper.topic.label,
                                                                      paper.topic.score)
    assert list(got.summary) == list(paper.summary)
    for lang, summary in paper.summary.items():
        assert all(getattr(got.summary[lang], f) == getattr(summary, f) for f in SUMMARY_FIELDS)
    for terms in (["model"], ["推理"], ["xyzzy"], []):
        assert paper_snippet(got, terms) == paper_snippet(paper, terms)


def test_a_view_holds_what_load_gives_for_every_sample_paper(sample_store):
    rows = sample_store.conn.execute("SELECT data FROM papers").fetchall()
    assert len(rows) > 600
    assert any(load(d).summary for d, in rows) and any(load(d).topic for d, in rows)  # both kinds are covered
    for (data,) in rows:
        _same(load(data), data)


def test_a_view_fills_in_the_models_defaults():
    for paper in (Paper(), Paper(id="x:1", topic=Topic(), summary={"zh": Summary(method="方法")}),
                  Paper(id="x:2", title="T", year=2020, authors=["A"], tldr="short",
                        topic=Topic(area="CS", label="NLP", score=0.5), sources=[SourceRef(source="t")])):
        data = data_json(paper)
        _same(load(data), data)
    _same(load("{}"), "{}")  # every field missing: the models' defaults


def test_results_from_views_are_the_results_from_papers(sample_store, monkeypatch):
    searcher = HybridSearcher(sample_store)
    from_views = [searcher.search_results(q, limit=20, mode="keyword") for q in QUERIES]
    from_papers = HybridSearcher(sample_store)
    monkeypatch.setattr(sample_store, "paper_views", lambda ids: sample_store.get_many(ids))
    assert [from_papers.search_results(q, limit=20, mode="keyword") for q in QUERIES] == from_views
    assert all(page.hits for page in from_views[:7])


def test_display_titles_from_views_are_those_from_papers(sample_store, monkeypatch):
    from paperlens.enrich.views import display_titles

    ids = [pid for pid, in sample_store.conn.execute("SELECT id FROM papers ORDER BY rowid")]
    from_views = display_titles(sample_store, ids)
    monkeypatch.setattr(sample_store, "paper_views", lambda ids: sample_store.get_many(ids))
    assert display_titles(sample_store, ids) == from_views and len(from_views) == len(ids)
    assert any(not sample_store.get(pid).title for pid in ids)  # derived titles are covered


def test_papers_with_enrichment_outputs_are_read_as_papers(sample_store, monkeypatch):
    pid = sample_store.conn.execute("SELECT id FROM papers WHERE title LIKE '%reasoning%' LIMIT 1").fetchone()[0]
    sample_store.save_enrichments([{"paper_id": pid, "step": "tldr", "version": "test", "status": "ok",
                                    "content_hash": sample_store.get(pid).content_hash(),
                                    "output": {"tldr": "A walrus summary of reasoning."}}])
    monkeypatch.setattr(sample_store, "paper_views", lambda ids: (_ for _ in ()).throw(AssertionError("views")))
    hits = HybridSearcher(sample_store).search_results("reasoning", limit=200, mode="keyword").hits
    assert pid in [hit.id for hit in hits]
