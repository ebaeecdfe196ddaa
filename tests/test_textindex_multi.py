"""Several head terms at once (Fagin's threshold algorithm over the head lists) give the results of
running the query, fall back to running it when the lists cannot prove the answer, and the lists are
saved beside the index: reused when it is reopened unchanged, worked out again after new papers."""

from __future__ import annotations

import itertools
import random

import pytest

from paperlens.core.models import Paper, SourceRef
from paperlens.search import textindex
from paperlens.search.textindex import TantivyIndex
from paperlens.store import Store

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


def make_papers(start: int, count: int, seed: int) -> list[Paper]:
    rng = random.Random(seed)
    papers = []
    for i in range(start, start + count):
        # Skewed word counts and lengths give each word a spread of scores; "common ending" is in
        # every abstract once, so its scores are nearly flat, as a stopword's are.
        body = " ".join(rng.choice(WORDS[:rng.randint(2, len(WORDS))]) for _ in range(rng.randint(5, 60)))
        abstract = f"Walrus number w{i:05d} {body} common ending"
        papers.append(Paper(id=f"test:{i}", title=f"Paper w{i:05d} about {rng.choice(WORDS)}", abstract=abstract,
                            abstract_raw=abstract, sources=[SourceRef(source="test", path="t", line=i + 1)]))
    return papers


@pytest.fixture
def small_head(monkeypatch):
    monkeypatch.setattr(textindex, "HEAD_TERM_MIN_DOCS", 1000)  # the real threshold needs 200k papers
    monkeypatch.setattr(textindex, "HEAD_TERM_DEPTH", 300)  # shallower than the posting lists
    monkeypatch.setattr(textindex, "HEAD_SCAN_START", 16)


def build(tmp_path, count: int = 2000) -> tuple[Store, TantivyIndex]:
    store = Store(tmp_path / "p.db")
    store.ingest(make_papers(0, count, seed=3))
    index = TantivyIndex(store)
    index.sync()
    return store, index


def assert_same_ranking(got, want):
    assert [rowid for rowid, _ in got] == [rowid for rowid, _ in want]
    assert [score for _, score in got] == pytest.approx([score for _, score in want], rel=1e-6)


def test_head_term_queries_equal_running_the_query(tmp_path, small_head):
    _, index = build(tmp_path)
    head = sorted(index._head)
    assert {"walrus", "common", "ending", "alpha", "beta"} <= set(head)
    assert not any(index._head[word].complete for word in ("walrus", "alpha"))  # the bounds are needed
    queries = [list(pair) for pair in itertools.combinations(head, 2)]
    queries += [["alpha", "beta", "gamma"], ["common", "ending", "walrus"], ["beta", "alpha", "beta"]]
    for terms in queries:
        for limit in (1, 10, 37):
            assert_same_ranking(index.search(terms, limit), index._search(terms, limit, "and"))
    assert index.head_stats["proved"] > len(queries)  # most were answered from the lists


def test_complete_head_lists_prove_queries_too(tmp_path, small_head, monkeypatch):
    monkeypatch.setattr(textindex, "HEAD_TERM_DEPTH", 5000)  # deeper than the collection: every list is whole
    monkeypatch.setattr(textindex, "HEAD_MULTI_MAX_LIMIT", 5000)
    _, index = build(tmp_path)
    assert all(ranked.complete for ranked in index._head.values())
    for terms in (["alpha", "beta"], ["common", "walrus"], ["theta", "eta", "zeta"]):
        for limit in (1, 10, 100):
            assert_same_ranking(index.search(terms, limit), index._search(terms, limit, "and"))
    assert index.head_stats["proved"] >= 6
    # Every paper with "theta": proved only by reading its whole list (no paper beyond it can match).
    everyone = len(index._head["theta"])
    index.head_stats.update(proved=0, fallback=0)
    assert_same_ranking(index.search(["theta", "walrus"], everyone), index._search(["theta", "walrus"], everyone, "and"))
    assert index.head_stats == {"proved": 1, "fallback": 0}


def test_lists_that_cannot_prove_the_answer_fall_back_to_the_query(tmp_path, small_head, monkeypatch):
    _, index = build(tmp_path)
    index.head_stats.update(proved=0, fallback=0)
    assert_same_ranking(index.search(["alpha", "beta"], 250), index._search(["alpha", "beta"], 250, "and"))
    assert index.head_stats == {"proved": 0, "fallback": 0}  # deeper than HEAD_MULTI_MAX_LIMIT: not tried
    monkeypatch.setattr(textindex, "HEAD_MULTI_MAX_LIMIT", 1000)
    # 250 of the 300 kept per word: papers beyond the lists may belong in the answer.
    for terms in itertools.combinations(sorted(index._head), 2):
        assert_same_ranking(index.search(list(terms), 250), index._search(list(terms), 250, "and"))
    assert index.head_stats["fallback"] > 0
    index.head_stats.update(proved=0, fallback=0)
    assert_same_ranking(index.search(["alpha", "beta"], 10, "or"), index._search(["alpha", "beta"], 10, "or"))
    assert index.head_stats == {"proved": 0, "fallback": 0}  # only AND queries use the lists


def test_the_best_papers_for_both_words_can_be_in_neither_list(tmp_path, small_head, monkeypatch):
    monkeypatch.setattr(textindex, "HEAD_TERM_MIN_DOCS", 50)
    monkeypatch.setattr(textindex, "HEAD_TERM_DEPTH", 20)
    # Scores saturate with repeats, so 4 x alpha + 4 x beta beats 12 x one word + 1 x the other; but the
    # 30 papers heavy in one word fill that word's list of 20.
    bodies = ["alpha " * 12 + "beta"] * 30 + ["beta " * 12 + "alpha"] * 30 + ["alpha beta " * 4] * 30
    store = Store(tmp_path / "p.db")
    store.ingest([Paper(id=f"test:{i}", title=f"Paper w{i:03d}", abstract=f"{body} w{i:03d}",
                        abstract_raw=body, sources=[SourceRef(source="test", path="t", line=i + 1)])
                  for i, body in enumerate(bodies)])
    index = TantivyIndex(store)
    index.sync()
    assert not index._head["alpha"].complete and not index._head["beta"].complete
    balanced = {store.conn.execute("SELECT rowid FROM papers WHERE id = ?", (f"test:{i}",)).fetchone()[0]
                for i in range(60, 90)}
    listed = {rowid for rowid, _ in index._head["alpha"].best(20) + index._head["beta"].best(20)}
    want = index._search(["alpha", "beta"], 10, "and")
    assert {rowid for rowid, _ in want} <= balanced and not balanced & listed  # what this test is about
    assert_same_ranking(index.search(["alpha", "beta"], 10), want)
    assert index.head_stats == {"proved": 0, "fallback": 1}


def test_head_lists_are_reused_after_reopening_and_refreshed_after_new_papers(tmp_path, small_head, monkeypatch):
    store, index = build(tmp_path)
    assert index.head_source == "computed"
    expected = index.search(["alpha", "beta"], 10)

    reopened = TantivyIndex(store)

    def no_recompute(*args, **kwargs):
        raise AssertionError("head lists worked out again for an unchanged index")

    monkeypatch.setattr(reopened, "_head_results", no_recompute)
    assert reopened.sync() == 0
    assert reopened.head_source == "loaded"
    assert set(reopened._head) == set(index._head)
    assert reopened.search(["alpha", "beta"], 10) == expected
    assert reopened.search(["walrus"], 20) == reopened._search(["walrus"], 20, "and")
    monkeypatch.undo()
    monkeypatch.setattr(textindex, "HEAD_TERM_MIN_DOCS", 1000)
    monkeypatch.setattr(textindex, "HEAD_TERM_DEPTH", 300)
    monkeypatch.setattr(textindex, "HEAD_SCAN_START", 16)

    # A new paper that is all "alpha beta" ranks first for both words once synced.
    store.ingest(make_papers(2000, 300, seed=4) + [Paper(
        id="test:new", title="Alpha beta alpha beta", abstract="Alpha beta " * 30 + "walrus common ending",
        abstract_raw="Alpha beta", sources=[SourceRef(source="test", path="t", line=9999)])])
    new_rowid = store.conn.execute("SELECT rowid FROM papers WHERE id = 'test:new'").fetchone()[0]
    assert reopened.sync() == 301
    assert reopened.head_source == "computed"
    for terms in (["alpha"], ["alpha", "beta"], ["common", "ending"]):
        assert_same_ranking(reopened.search(terms, 10), reopened._search(terms, 10, "and"))
    assert reopened.search(["alpha", "beta"], 1)[0][0] == new_rowid

    again = TantivyIndex(store)
    again.sync()
    assert again.head_source == "loaded"  # the refreshed lists were saved in turn
    assert again.search(["alpha", "beta"], 10) == reopened.search(["alpha", "beta"], 10)
