"""What a listing needs of one (effective) paper, as plain values: its display title, date, rating,
topic and keywords. The catalog (in this process) and the brief workers (in child processes) both
work briefs out through here."""

from __future__ import annotations

from paperlens.core.models import Paper
from paperlens.enrich.models.tags import tag_label
from paperlens.enrich.views import display_title, title_origin  # noqa: F401 (the templates' and listings' title)
from paperlens.store import keyword_norm


def topic_key(paper: Paper) -> tuple[str | None, str] | None:
    if paper.topic is None:
        return None
    label = paper.topic.label or paper.topic.area
    return (paper.topic.area, label) if label else None


def rating(paper: Paper) -> float | None:
    extra = paper.extra
    if not extra:
        return None
    for key in ("rating", "avg_rating"):
        value = extra.get(key)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                continue
    return None


def sort_date(paper: Paper) -> str:
    if paper.date:
        return paper.date
    return f"{paper.year:04d}" if paper.year else ""


_NORMS: dict[str, str] = {}  # keyword as written -> its norm (keyword_norm is the costly part)


def brief_fields(rowid: int, paper: Paper) -> tuple:
    """What a Brief holds of an (effective) paper, as plain values: another process can work them out
    (see brief_worker) and this one turns them into a Brief (Brief.from_fields)."""
    # (norm, as written) per keyword, norms unique, first spelling kept.
    pairs: dict[str, tuple[str, str]] = {}
    for keyword in paper.keywords:
        norm = _NORMS.get(keyword)
        if norm is None:
            if len(_NORMS) > 1_000_000:  # bounded: keywords repeat, but a corpus may have many
                _NORMS.clear()
            norm = _NORMS[keyword] = keyword_norm(keyword)
        if norm and norm not in pairs:
            pairs[norm] = (norm, tag_label(keyword.strip()))
    return (rowid, paper.id, display_title(paper), paper.year, sort_date(paper), paper.venue or None,
            bool(paper.code_url or paper.extra.get("code_badge")), rating(paper), topic_key(paper),
            tuple(pairs.values()), tuple(dict.fromkeys(paper.authors)),
            any(not s.is_empty() for s in paper.summary.values()))
