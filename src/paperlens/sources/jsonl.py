"""Our own JSONL export read back in: a lossless round trip that keeps each given id."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from paperlens.core.models import Paper, Summary, Topic
from paperlens.sources.base import (
    ReadContext,
    Rejected,
    Source,
    json_depth_error,
    json_objects,
    oversized_field,
)
from paperlens.sources.refcommon import DATE_RAW, DateParts, date_parts

_DATE_PARTS = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")

# Keys that tell our export apart from arXiv's snapshot (which has 'submitter', 'versions', ...).
_OUR_KEYS = {"id", "abstract", "sources", "summary", "topic"}


class PaperlensJsonlSource(Source):
    name = "jsonl"
    description = "paperlens JSONL export (one paper object per line)"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        first = head.lstrip().split("\n", 1)[0]
        if not first.startswith("{"):
            return False
        try:
            keys = set(json.loads(first)) if json_depth_error(first) is None else set()
        except (ValueError, TypeError, RecursionError):
            return '"sources"' in first and '"summary"' in first
        return len(_OUR_KEYS & keys) >= 4

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        for item in json_objects(ctx, "not valid UTF-8 text"):
            if isinstance(item, Rejected):
                yield item
                continue
            number, data, line = item
            try:
                paper = paper_from_export(data)
            except (ValidationError, ValueError, TypeError) as exc:
                yield Rejected(ctx.path, number, f"invalid paper: {_first_error(exc)}")
                continue
            if not paper.abstract and not paper.title:
                yield Rejected(ctx.path, number, "paper has neither title nor abstract")
                continue
            too_big = oversized_field(paper, ctx.field_limits, len(line))
            if too_big:
                yield Rejected(ctx.path, number, too_big)
                continue
            yield paper


def paper_from_export(data: dict) -> Paper:
    data = dict(data)
    topic, summary = data.get("topic"), data.get("summary")
    if topic and not isinstance(topic, dict):
        raise ValueError(f"topic: expected an object, got {type(topic).__name__}")
    if summary and not (isinstance(summary, dict) and all(isinstance(s, dict) for s in summary.values())):
        raise ValueError("summary: expected an object of {language: summary object}")
    data["topic"] = Topic.model_validate(topic) if topic else None
    data["summary"] = {lang: Summary.model_validate(s) for lang, s in (summary or {}).items()}
    paper = Paper.model_validate(data)
    if paper.date:
        # an edited export's impossible date (2026-02-30, 2026-13): keep its year (and a valid month), and the
        # value as written in extra.date_raw, as every reader does (refcommon.date_parts)
        match = _DATE_PARTS.match(paper.date)
        when = date_parts(*match.groups()) if match else DateParts()
        if when.iso != paper.date:
            if when.dropped or not when.iso:
                paper.extra = {**paper.extra, DATE_RAW: paper.extra.get(DATE_RAW, paper.date)}
            paper.date = when.iso
            paper.year = paper.year or when.year
    if not paper.abstract_raw:
        paper.abstract_raw = paper.abstract
    if not paper.id:
        from paperlens.core.ids import paper_id

        paper.id = paper_id(paper.arxiv_id, paper.doi, paper.openreview_id, paper.title, paper.abstract,
                            authors=paper.authors, year=paper.year, venue=paper.venue)
    return paper


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
    return str(exc)
