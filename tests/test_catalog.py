"""The web catalog keeps briefs, not whole papers, and catches up on changes by reading only the papers
written or enriched since its last version; a patched version must equal a catalog built from scratch."""

from __future__ import annotations

import pytest

import paperlens.web.catalog as catalog_module
from paperlens.core.ids import paper_id
from paperlens.core.models import Paper, Topic
from paperlens.store import Store
from paperlens.web.catalog import Catalog

from .web_corpus import build_web_db


def picture(catalog: Catalog) -> dict:
    """Everything a listing page can show of a catalog version, as plain data."""
    return {
        "briefs": {pid: {name: getattr(b, name) for name in catalog_module.Brief.__slots__}
                   for pid, b in catalog.briefs.items()},
        "order": list(catalog.briefs),
        "newest": list(catalog.newest),
        "topics": {slug: (t.area, t.label, list(t.ids)) for slug, t in catalog.topics.items()},
        "areas": {area: [t.slug for t in infos] for area, infos in catalog.areas.items()},
        "authors": {slug: (a.name, list(a.ids)) for slug, a in catalog.authors.items()},
        "keywords": {norm: (k.label, list(k.ids)) for norm, k in catalog.keywords.items()},
        "no_topic": list(catalog.no_topic),
        "stats": catalog.stats,
        "counts": (dict(catalog.counts.years), dict(catalog.counts.year_topics),
                   {norm: dict(c) for norm, c in catalog.counts.keyword_years.items()},
                   catalog.counts.with_code, catalog.counts.with_summary),
    }


def _refresh(catalog: Catalog) -> bool:
    catalog._checked = 0.0
    return catalog.refresh()


def _hash_paper(title: str, abstract: str, **fields) -> Paper:
    return Paper(id=paper_id(None, None, None, title, abstract), title=title, abstract=abstract, **fields)


@pytest.fixture
def web_db(tmp_path, monkeypatch):
    import paperlens.store.connection as store_module

    # The corpus is stamped a week back and one last paper a day later: a catch-up re-reads the rows of
    # the last stamp it saw (a write may commit late), so it reads that paper and what a test writes now.
    with monkeypatch.context() as patch:
        patch.setattr(store_module, "utcnow", lambda: "2026-11-23T18:00:00Z")
        db = build_web_db(tmp_path, seeds=("000", "001"))
        patch.setattr(store_module, "utcnow", lambda: "2026-11-24T18:00:00Z")
        writer = Store(db)
        writer.ingest([Paper(id="test:last", title="The Last Walrus", abstract="One walrus, the last.")])
        writer.close()
    return db


def test_patched_catalog_equals_a_fresh_build_after_new_merged_enriched_and_rekeyed_papers(web_db, monkeypatch):
    read_rowids: list = []
    real_iter = Store.iter_paper_rows

    def counting_iter(self, rowids=None, batch=1000):
        read_rowids.append(None if rowids is None else len(rowids))
        yield from real_iter(self, rowids, batch)

    monkeypatch.setattr(Store, "iter_paper_rows", counting_iter)
    catalog = Catalog(Store(web_db, readonly=True))
    total = len(catalog.papers)
    assert read_rowids == [None]  # the first version reads everything

    writer = Store(web_db)
    untitled = _hash_paper("Walrus Tokenizers Revisited", "We revisit walrus tokenizers on forty corpora.",
                           authors=["Wally Walrus", "Ada Lovelace"], keywords=["tokenization", "walruses"])
    writer.ingest([
        Paper(id="test:new", title="A New Paper on Seals", abstract="Seals are measured.", year=2031,
              date="2031-01-05", authors=["Sally Seal"], keywords=["Seals", "measurement"],
              topic=Topic(area="Marine", label="Pinnipeds")),
        untitled,
    ])
    # an enrichment gives a topic-less paper a topic and keywords
    target = next(pid for pid in catalog.no_topic if pid != untitled.id)
    writer.save_enrichments([
        {"paper_id": target, "step": "topic", "version": "t", "content_hash": "", "status": "ok",
         "output": {"area": None, "label": "Enriched topic", "score": 0.9}, "model": "test"},
        {"paper_id": target, "step": "keywords", "version": "t", "content_hash": "", "status": "ok",
         "output": {"keywords": ["brand new keyword"]}, "model": "test"},
    ])
    writer.close()
    read_rowids.clear()
    assert _refresh(catalog)
    assert catalog.patched and read_rowids and read_rowids == [4]  # the last one, two new, one enriched
    assert len(catalog.papers) == total + 2
    assert catalog.briefs[target].topic == (None, "Enriched topic")
    assert picture(catalog) == picture(Catalog(Store(web_db, readonly=True)))

    assert catalog.papers["test:new"].venue is None  # now cached
    assert catalog.papers[target].topic.label == "Enriched topic"

    # the hash-identified paper gets an arXiv id: same row, new id, the old id must leave every listing
    writer = Store(web_db)
    stronger = untitled.model_copy(update={"id": "arxiv:2611.07777", "arxiv_id": "2611.07777"})
    writer.ingest([stronger])
    # a second source adds a code link and a venue to a stored paper; the enriched paper is re-enriched
    more = writer.get("test:new")
    more.code_url, more.venue = "https://github.com/example/seals", "Seal Conference 2031"
    writer.ingest([more])
    writer.save_enrichments([
        {"paper_id": target, "step": "topic", "version": "t2", "content_hash": "", "status": "ok",
         "output": {"area": None, "label": "Re-enriched topic", "score": 0.8}, "model": "test"}])
    writer.close()
    held = picture(catalog)
    token = catalog.pin()  # a request still reading the previous version
    assert _refresh(catalog)
    assert picture(catalog) == held  # patching copied what it changed: the old version is untouched
    catalog.unpin(token)
    assert catalog.patched
    assert untitled.id not in catalog.papers and "arxiv:2611.07777" in catalog.papers
    assert len(catalog.papers) == total + 2
    assert not any(untitled.id in a.ids for a in catalog.authors.values())
    assert catalog.briefs["test:new"].has_code and catalog.briefs["test:new"].venue == "Seal Conference 2031"
    assert catalog.briefs[target].topic == (None, "Re-enriched topic")
    assert "enriched-topic" not in catalog.topics
    assert picture(catalog) == picture(Catalog(Store(web_db, readonly=True)))
    # whole papers are read again once they changed (no stale cache)
    assert catalog.papers["test:new"].venue == "Seal Conference 2031"
    assert catalog.papers[target].topic.label == "Re-enriched topic"


def test_page_papers_are_read_from_the_store_not_held_in_memory(web_db, monkeypatch):
    monkeypatch.setattr(catalog_module, "PAPER_CACHE", 3)
    catalog = Catalog(Store(web_db, readonly=True))
    ids = list(catalog.newest[:10])
    papers = catalog.papers.many(ids)
    assert [p.id for p in papers] == ids
    assert len(catalog._cache) == 3  # bounded: the rest is read again when shown
    assert catalog.papers[ids[0]].id == ids[0]
    assert "no such paper" not in catalog.papers
    assert catalog.papers.get("no such paper") is None
    with pytest.raises(KeyError):
        catalog.papers["no such paper"]


def test_a_write_committed_late_within_the_margin_is_not_missed(web_db, monkeypatch):
    import paperlens.store.connection as store_module

    catalog = Catalog(Store(web_db, readonly=True))
    stamp = catalog.stamps[0]
    writer = Store(web_db)
    # a writer stamped its rows before the newest stamp the catalog saw, and committed after it
    earlier = catalog_module._earlier(stamp, 5)
    assert catalog_module.LATE_COMMIT_S > 5
    monkeypatch.setattr(store_module, "utcnow", lambda: earlier)
    writer.ingest([Paper(id="test:late-commit", title="Late Committed Walruses", abstract="Walruses, late.")])
    writer.close()
    assert _refresh(catalog) and catalog.patched
    assert "test:late-commit" in catalog.papers
    assert picture(catalog) == picture(Catalog(Store(web_db, readonly=True)))


def test_a_slow_catalog_is_rebuilt_in_the_background_while_requests_keep_the_current_version(web_db, monkeypatch):
    monkeypatch.setattr(catalog_module, "BACKGROUND_BUILD_S", 0.0)
    catalog = Catalog(Store(web_db, readonly=True))
    before = len(catalog.papers)
    writer = Store(web_db)
    writer.ingest([Paper(id="test:background", title="Background Walruses", abstract="Walruses in the back.")])
    writer.close()
    assert not _refresh(catalog)  # the rebuild runs in its own thread; this request is not held up
    catalog.wait_built()
    assert not catalog._building
    assert len(catalog.papers) == before + 1 and "test:background" in catalog.papers
    assert picture(catalog) == picture(Catalog(Store(web_db, readonly=True)))


def test_many_changes_fall_back_to_a_full_build(web_db, monkeypatch):
    monkeypatch.setattr(catalog_module, "PATCH_MAX", 0)
    catalog = Catalog(Store(web_db, readonly=True))
    writer = Store(web_db)
    writer.ingest([Paper(id=f"test:bulk{i}", title=f"Bulk Walrus {i}", abstract=f"Walrus number {i}.")
                   for i in range(len(catalog.papers) // 5 + 2)])
    writer.close()
    assert _refresh(catalog) and not catalog.patched
    assert picture(catalog) == picture(Catalog(Store(web_db, readonly=True)))


@pytest.mark.parametrize("workers", [1, 2])
def test_briefs_worked_out_in_child_processes_give_the_same_catalog(web_db, monkeypatch, workers):
    in_process = picture(Catalog(Store(web_db, readonly=True)))
    monkeypatch.setattr(catalog_module, "WORKERS_MIN_PAPERS", 1)
    monkeypatch.setenv("PAPERLENS_CATALOG_WORKERS", str(workers))
    pools = []
    real_init = catalog_module.BriefWorkers.__init__

    def recording_init(self, count):
        real_init(self, count)
        pools.append(self)

    monkeypatch.setattr(catalog_module.BriefWorkers, "__init__", recording_init)
    in_children = Catalog(Store(web_db, readonly=True))
    assert [len(pool._children) for pool in pools] == [workers]
    assert picture(in_children) == in_process
    assert len(in_children.briefs) > 20 and in_children.keywords and in_children.authors
    assert all(child.process.poll() is not None for child in pools[0]._children)  # no child left behind


def test_a_failing_brief_worker_falls_back_to_building_in_this_process(web_db, monkeypatch):
    in_process = picture(Catalog(Store(web_db, readonly=True)))
    monkeypatch.setattr(catalog_module, "WORKERS_MIN_PAPERS", 1)
    monkeypatch.setenv("PAPERLENS_CATALOG_WORKERS", "1")

    def broken(self, batches):
        yield from ()
        raise RuntimeError("the brief worker stopped (exit code -9)")

    monkeypatch.setattr(catalog_module.BriefWorkers, "map", broken)
    assert picture(Catalog(Store(web_db, readonly=True))) == in_process


def test_a_brief_worker_reports_a_bad_row_instead_of_hanging():
    from paperlens.web.brief_worker import BriefWorkers

    with BriefWorkers(1) as pool, pytest.raises(RuntimeError, match="brief worker failed"):
        list(pool.map([([(1, "test:x", "{not json")], [])]))
