"""The effective view of a paper: what sources gave, completed by enrichment results.

Precedence per field: a value a source gave > an LLM step's > a local model's. Views, the web
and exports all read papers through here so they agree."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from paperlens.store import Store

if TYPE_CHECKING:  # the pydantic models are imported where papers are built, not with this module
    from paperlens.core.models import Paper
    from paperlens.store.rows import PaperView


def resolved_paper(store: Store, pid: str) -> Paper | None:
    paper = store.get(pid)
    if paper is None:
        return None
    return apply_enrichments(paper, store.enrichments_for(paper.id))


def export_papers(store: Store) -> Iterator[Paper]:
    for paper in store.iter_papers():
        yield apply_enrichments(paper, store.enrichments_for(paper.id))


def has_outputs(enrichments: dict[str, dict]) -> bool:
    """Whether any of a paper's enrichment records would change its view (an ok one with an output)."""
    return any(e.get("status") == "ok" and e.get("output") for e in enrichments.values())


def apply_enrichments(paper: Paper, enrichments: dict[str, dict], copy: bool = True) -> Paper:
    """The paper with its enrichment outputs applied; `copy=False` fills `paper` itself (for a paper
    just read, which nobody else holds: saves a deep copy per paper when reading many)."""
    if not has_outputs(enrichments):
        return paper  # nothing to apply: the steps (and the models they import) are not loaded for it
    # Enrichment steps register how their output fills a paper (see paperlens.enrich.steps).
    from paperlens.enrich.registry import apply_outputs

    return apply_outputs(paper, enrichments, copy=copy)


def library_stats(store: Store) -> dict:
    """`Store.stats()` with the topic counts of the papers as every view shows them (a source's topic, else
    the topic step's prediction), each split into given by a source and predicted; undated papers under
    "undated". The web counts the same papers, so `paperlens stats` and the topic pages agree."""
    data = store.stats()
    totals: dict[str, int] = {}
    given: dict[str, int] = {}
    predicted: dict[str, int] = {}
    no_topic = 0
    for paper in store.iter_papers():
        own = paper.topic is not None and bool(paper.topic.label or paper.topic.area)
        topic = (paper if own else apply_enrichments(paper, store.enrichments_for(paper.id), copy=False)).topic
        label = topic.label or topic.area if topic is not None else None
        if not label:
            no_topic += 1
            continue
        key = f"{topic.area or '-'} / {label}"
        totals[key] = totals.get(key, 0) + 1
        (given if own else predicted)[key] = (given if own else predicted).get(key, 0) + 1
    data["by_topic"] = dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))
    data["by_topic_given"] = given
    data["by_topic_predicted"] = predicted
    data["topic_origin"] = {"given": sum(given.values()), "predicted": sum(predicted.values()), "none": no_topic}
    data["by_year"] = {("undated" if year in (None, "None") else year): n for year, n in data["by_year"].items()}
    return data


_FIRST_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")
DISPLAY_TITLE_CHARS = 120


def display_title(paper: Paper | PaperView) -> str:
    """What a list or page shows as the title: the paper's (a source's, an LLM's, or the title step's derived
    one), else the start of the abstract's first sentence, ended at a word (never mid-word) with "…"."""
    if paper.title:
        return paper.title
    text = (paper.abstract or paper.tldr or paper.id).strip()
    first = _FIRST_SENTENCE.split(text, maxsplit=1)[0]
    if len(first) <= DISPLAY_TITLE_CHARS:
        return first
    cut = first[:DISPLAY_TITLE_CHARS]
    if re.search(r"[\u3400-\u9fff]", cut):  # Chinese has no spaces between words: cut at a punctuation mark
        mark = max(cut.rfind(c) for c in "，,、；;：:")
        return (cut[:mark] if mark > 20 else cut).rstrip() + "…"
    return cut[:cut.rfind(" ")].rstrip(" ,;:(-—") + "…" if " " in cut else cut + "…"


def title_origin(paper: Paper) -> str | None:
    """Where a title no source gave came from ("derived from the abstract (...)", "written by an LLM (...)")."""
    origin = paper.extra.get("title_origin") if paper.extra else None
    return origin if isinstance(origin, str) else None


def display_titles(store: Store, ids: list[str]) -> dict[str, str]:
    """Display titles of papers as their views give them (a derived or LLM title where no source gave one)."""
    ids = list(dict.fromkeys(ids))
    found = store.enrichments_for_many(ids)
    if not any(has_outputs(e) for e in found.values()):  # as stored: read without the pydantic models
        return {p.id: display_title(p) for p in store.paper_views(ids)}
    papers = store.get_many(ids)
    return {p.id: display_title(apply_enrichments(p, found.get(p.id, {}), copy=False)) for p in papers}
