"""The effective view of a paper: what sources gave, completed by enrichment results.

Precedence per field: a value a source gave > an LLM step's > a local model's. Views, the web
and exports all read papers through here so they agree."""

from __future__ import annotations

from collections.abc import Iterator

from paperlens.core.models import Paper
from paperlens.store import Store


def resolved_paper(store: Store, pid: str) -> Paper | None:
    paper = store.get(pid)
    if paper is None:
        return None
    return apply_enrichments(paper, store.enrichments_for(paper.id))


def export_papers(store: Store) -> Iterator[Paper]:
    for paper in store.iter_papers():
        yield apply_enrichments(paper, store.enrichments_for(paper.id))


def apply_enrichments(paper: Paper, enrichments: dict[str, dict], copy: bool = True) -> Paper:
    """The paper with its enrichment outputs applied; `copy=False` fills `paper` itself (for a paper
    just read, which nobody else holds: saves a deep copy per paper when reading many)."""
    # Enrichment steps register how their output fills a paper (see paperlens.enrich.steps).
    from paperlens.enrich.registry import apply_outputs

    return apply_outputs(paper, enrichments, copy=copy)
