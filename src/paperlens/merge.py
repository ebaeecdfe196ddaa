"""Merge two records of the same paper, keeping the richest value of each field and where it came from."""

from __future__ import annotations

from .ids import paper_id
from .models import SUMMARY_FIELDS, Paper, Summary

SCALAR_FIELDS = ("org", "venue", "tldr", "code_url", "arxiv_id", "doi", "openreview_id")


def source_label(paper: Paper) -> str:
    ref = paper.sources[0] if paper.sources else None
    if ref is None:
        return "unknown"
    where = f"{ref.path}:{ref.line}" if ref.path and ref.line else (ref.path or "")
    return f"{ref.source} {where}".strip()


def merge_papers(old: Paper, new: Paper, provenance: dict[str, str]) -> Paper:
    """`old` updated with what `new` adds. `provenance` (field -> origin) is updated in place."""
    merged = old.model_copy(deep=True)
    origin = source_label(new)

    def take(field: str, value) -> None:
        setattr(merged, field, value)
        provenance[field] = origin

    if len(new.title) > len(merged.title):
        take("title", new.title)
    if _richer_authors(new, merged):
        take("authors", list(new.authors))
        merged.authors_truncated = new.authors_truncated
    for field in SCALAR_FIELDS:
        if not getattr(merged, field) and getattr(new, field):
            take(field, getattr(new, field))
    if new.date and (not merged.date or len(new.date) > len(merged.date)):
        take("date", new.date)
    if new.year and not merged.year:
        take("year", new.year)
    if len(new.abstract) > len(merged.abstract) * 1.02 or not merged.abstract:
        take("abstract", new.abstract)
        merged.abstract_raw = new.abstract_raw
        provenance["abstract_raw"] = origin
        if new.language != merged.language:
            merged.language = new.language
    union = _union(merged.categories, new.categories)
    if union != merged.categories:
        take("categories", union)
    union = _union(merged.keywords, new.keywords)
    if union != merged.keywords:
        take("keywords", union)
    if new.topic and (not merged.topic or (new.topic.label and not merged.topic.label)):
        take("topic", new.topic)  # a topic with a label is richer than an area alone
    for lang, summary in new.summary.items():
        mine = merged.summary.get(lang) or Summary()
        changed = False
        for field in SUMMARY_FIELDS:
            if not getattr(mine, field) and getattr(summary, field):
                setattr(mine, field, getattr(summary, field))
                provenance[f"summary.{lang}.{field}"] = origin
                changed = True
        if changed:
            merged.summary[lang] = mine
    for key, value in new.extra.items():
        merged.extra.setdefault(key, value)
    known = {(s.source, _base(s.path), s.line, s.source_id) for s in merged.sources}
    for ref in new.sources:
        if (ref.source, _base(ref.path), ref.line, ref.source_id) not in known:
            merged.sources.append(ref)
    # A record that arrives with a stronger identifier re-keys a hash-identified paper.
    strongest = paper_id(merged.arxiv_id, merged.doi, merged.openreview_id, merged.title, merged.abstract)
    if merged.id.startswith("h:") and not strongest.startswith("h:"):
        merged.id = strongest
    return merged


_PROVENANCE_FIELDS = ("title", "authors", "org", "date", "year", "categories", "venue", "abstract", "abstract_raw",
                      "keywords", "tldr", "code_url", "topic", "arxiv_id", "doi", "openreview_id")
_EMPTY = (None, "", [], {})


def initial_provenance(paper: Paper) -> dict[str, str]:
    origin = source_label(paper)
    values = paper.__dict__  # plain field values; getattr per field shows up on bulk ingests
    prov = {f: origin for f in _PROVENANCE_FIELDS if values[f] not in _EMPTY}
    for lang, summary in paper.summary.items():
        for field in SUMMARY_FIELDS:
            if getattr(summary, field):
                prov[f"summary.{lang}.{field}"] = origin
    return prov


def _richer_authors(new: Paper, old: Paper) -> bool:
    if not new.authors:
        return False
    if not old.authors:
        return True
    if old.authors_truncated and not new.authors_truncated and len(new.authors) >= len(old.authors):
        return True
    return len(new.authors) > len(old.authors) and not (new.authors_truncated and not old.authors_truncated)


def _union(a: list[str], b: list[str]) -> list[str]:
    seen = {x.lower() for x in a}
    out = list(a)
    for item in b:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out


def _base(path: str | None) -> str | None:
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else None
