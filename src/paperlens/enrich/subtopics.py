"""Sub-topic discovery over a store (`paperlens taxonomy discover`): pick the papers (one topic, the
papers without a topic, or all), take their stored embeddings (computing the missing ones, not stored),
and cluster them with taxonomy.discover."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paperlens.enrich.models.taxonomy import Cluster, TaxonomyError, discover, load_taxonomy, record_text
from paperlens.store import Store


@dataclass
class Discovery:
    papers: int
    k: int
    embedder: str
    clusters: list[Cluster]

    def as_dict(self) -> dict:
        return {"papers": self.papers, "k": self.k, "embedder": self.embedder, "clusters": [
            {"name": c.name, "terms": c.terms, "count": c.count, "paper_ids": c.paper_ids} for c in self.clusters]}


def discover_in_store(store: Store, k: int, *, topic: str | None = None, taxonomy_name: str | None = None,
                      all_papers: bool = False, seed: int = 0, extra: list[Path] | None = None) -> Discovery:
    """`k` clusters of the papers with topic label `topic` (also matched by the zh/en label of
    `taxonomy_name`, when given), else of every paper (`all_papers`), else of the papers without a
    topic. TaxonomyError for an unknown taxonomy, no papers selected, or a bad `k`."""
    import numpy as np

    from paperlens.enrich.models.embed import get_embedder, paper_text
    from paperlens.enrich.views import export_papers

    if topic and taxonomy_name:
        known = load_taxonomy(taxonomy_name, extra or [])
        matches = {topic} | {lab.id for lab in known.labels if topic in (lab.zh, lab.en)}
    else:
        matches = {topic} if topic else set()
    selected = []
    for paper in export_papers(store):
        label = paper.topic.label if paper.topic else None
        if all_papers or (topic and label in matches) or (not topic and not label):
            selected.append(paper)
    if not selected:
        what = "every paper" if all_papers else (f"topic {topic!r}" if topic else "papers without a topic")
        raise TaxonomyError(f"no papers selected ({what}) in {store.path}")
    embedder = get_embedder()
    stored_ids, stored = store.load_embeddings(embedder.name, [p.id for p in selected])
    by_id = dict(zip(stored_ids, stored, strict=True))
    missing = [p for p in selected if p.id not in by_id]
    if missing:
        for paper, vector in zip(missing, embedder.encode([paper_text(p.title, p.abstract) for p in missing]),
                                 strict=True):
            by_id[paper.id] = vector
    vectors = np.stack([by_id[p.id] for p in selected])
    texts = [record_text(p.title, p.abstract, p.keywords) for p in selected]
    clusters = discover([p.id for p in selected], texts, vectors, k, seed=seed)
    return Discovery(len(selected), k, embedder.name, clusters)
