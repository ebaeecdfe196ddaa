"""Head terms (words in most abstracts) are answered from results worked out at sync: the same results,
in the same order, as running the query."""

from __future__ import annotations

import random

from paperlens.core.models import Paper, SourceRef
from paperlens.search import textindex
from paperlens.search.textindex import TantivyIndex
from paperlens.store import Store


def test_head_term_results_equal_running_the_query(tmp_path, monkeypatch):
    monkeypatch.setattr(textindex, "HEAD_TERM_MIN_DOCS", 1000)  # the real threshold needs 200k papers
    rng = random.Random(3)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    store = Store(tmp_path / "p.db")
    papers = []
    for i in range(1500):
        body = " ".join(rng.choice(words) for _ in range(rng.randint(5, 40)))
        abstract = f"Walrus number w{i:05d} {body} common ending"
        papers.append(Paper(id=f"test:{i}", title=f"Paper w{i:05d} about {rng.choice(words)}", abstract=abstract,
                            abstract_raw=abstract, sources=[SourceRef(source="test", path="t", line=i + 1)]))
    store.ingest(papers)
    index = TantivyIndex(store)
    index.sync()
    assert "walrus" in index._head and "common" in index._head
    assert "w00042" not in index._head  # a rare word is not a head term
    monkeypatch.setattr(textindex, "HEAD_TERM_MIN_DOCS", 200_000)
    assert index._head_results() == {}  # small collections skip the work
    for word in ("walrus", "common", "alpha"):
        if word in index._head:
            for limit in (1, 10, 57, 100):
                assert index.search([word], limit) == index._search([word], limit, "and")
    assert len(index.search(["walrus"], 150)) == 150  # deeper than the cache: the query runs
    assert index.search(["w00042"], 5)[0][0] == store.conn.execute(
        "SELECT rowid FROM papers WHERE id = 'test:42'").fetchone()[0]
