"""What the store writes and reads, as plain values: a paper as its rows (`prepare`), papers.data JSON and
back (`load`), the provenance JSON, enrichment rows by paper. Pure: no database, no SQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from paperlens.core.clean import slugify
from paperlens.core.ids import record_keys
from paperlens.core.merge import Decision, initial_provenance, source_label
from paperlens.core.words import (
    keyword_norm as keyword_norm,  # one norm for store, keyword model and web (re-exported)
)

if TYPE_CHECKING:  # the pydantic models are imported where papers are built, not with this module
    from paperlens.core.models import Paper

T = TypeVar("T")


class PreparedPaper(NamedTuple):
    """A paper as the rows the store writes for it, made by `prepare` (pure: no database). Parsing and
    preparing can run in another process; only these tuples of strings cross over (a pydantic model
    pickles many times slower)."""

    id: str
    keys: tuple[str, ...]  # every key it could be found under, strongest first
    row: tuple[Any, ...]  # the papers columns from data to has_code (see PAPER_COLUMNS)
    authors: tuple[tuple[str, str], ...]  # (name, slug) in order
    keywords: tuple[tuple[str, str], ...]  # (keyword, norm)
    fts: tuple[str, str, str, str]  # title, abstract, keywords, authors
    paper: Paper | None = None  # kept when prepared in this process; else rebuilt from row[0] if needed


PAPER_COLUMNS = ("data", "provenance", "content_hash", "title", "year", "date", "language", "venue",
                 "topic_area", "topic_label", "has_code")


def prepare(paper: Paper, keep_paper: bool = True) -> PreparedPaper:
    return PreparedPaper(
        id=paper.id,
        keys=tuple(dict.fromkeys(record_keys(paper))),
        row=paper_row(paper, initial_provenance(paper)),
        authors=tuple((name, slugify(name)) for name in paper.authors),
        keywords=tuple((kw, keyword_norm(kw)) for kw in paper.keywords),
        fts=fts_text(paper),
        paper=paper if keep_paper else None,
    )


@dataclass
class IngestResult:
    new: int = 0
    merged: int = 0
    unchanged: int = 0
    ids: list[str] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        self.new += other.new
        self.merged += other.merged
        self.unchanged += other.unchanged


_SAME_AS_ABSTRACT = {"abstract_raw"}


def data_json(paper: Paper) -> str:
    """papers.data: the paper as JSON, without abstract_raw when it is the abstract itself (most papers:
    no LaTeX), which `load` restores. A third less to write, and a smaller database."""
    if paper.abstract_raw == paper.abstract:
        return paper.model_dump_json(exclude=_SAME_AS_ABSTRACT)
    return paper.model_dump_json()


class TopicView(NamedTuple):
    area: str | None = None
    label: str | None = None
    score: float | None = None


class SummaryView(NamedTuple):
    motivation: str = ""
    problem: str = ""
    observation: str = ""
    method: str = ""
    experiments: str = ""
    contribution: str = ""


class PaperView(NamedTuple):
    """What a result list reads of a stored paper, from papers.data without the pydantic model (whose import
    and validators were half of a `paperlens search` process, issue 19): the values `load(data)` gives these
    fields, its defaults where the JSON has none (tests/test_paper_view.py compares them)."""

    id: str = ""
    title: str = ""
    year: int | None = None
    topic: TopicView | None = None
    authors: list[str] = []  # noqa: RUF012 - a NamedTuple default, never mutated
    abstract: str = ""
    summary: dict[str, SummaryView] = {}  # noqa: RUF012
    tldr: str | None = None


def view(data: str | bytes) -> PaperView:
    d = json.loads(data)
    topic = d.get("topic")
    fields = SummaryView._fields
    return PaperView(
        id=d.get("id", ""), title=d.get("title", ""), year=d.get("year"),
        topic=None if topic is None else TopicView(topic.get("area"), topic.get("label"), topic.get("score")),
        authors=list(d.get("authors", [])), abstract=d.get("abstract", ""),
        summary={lang: SummaryView(*(s.get(f, "") for f in fields)) for lang, s in (d.get("summary") or {}).items()},
        tldr=d.get("tldr"))


def load(data: str | bytes) -> Paper:
    from paperlens.core.models import Paper

    paper = Paper.model_validate_json(data)
    if "abstract_raw" not in paper.model_fields_set:
        paper.abstract_raw = paper.abstract
    return paper


def paper_row(paper: Paper, provenance: dict[str, Any]) -> tuple[Any, ...]:
    """The papers columns of a paper, in the order of PAPER_COLUMNS."""
    return (data_json(paper), provenance_json(provenance),
            paper.content_hash(), paper.title, paper.year, paper.date, paper.language, paper.venue,
            paper.topic.area if paper.topic else None, paper.topic.label if paper.topic else None,
            int(bool(paper.code_url or paper.extra.get("code_badge"))))


_json_string = json.encoder.encode_basestring  # str -> JSON string literal, non-ASCII kept


def explain_merge(provenance: dict[str, Any], paper: Paper, decision: Decision) -> None:
    """Record in `provenance` which record joined the paper, and by which keys and rule."""
    explained = provenance.get("merges")
    explained = list(explained) if isinstance(explained, list) else []
    explained.append({"from": source_label(paper), "matched": list(decision.matched), "rule": decision.rule})
    provenance["merges"] = explained


def provenance_json(provenance: dict[str, Any]) -> str:
    """Compact JSON of a str -> str dict (json.dumps builds an encoder per call; this runs per paper).
    Most values are one origin repeated, so each distinct value is encoded once."""
    encoded: dict[Any, str] = {}
    parts = []
    for key, value in provenance.items():
        if not isinstance(value, str):  # the merge notes (lists of objects)
            parts.append(_json_string(str(key)) + ":" + json.dumps(value, ensure_ascii=False))
            continue
        text = encoded.get(value)
        if text is None:
            text = encoded[value] = _json_string(value)
        parts.append(_json_string(str(key)) + ":" + text)
    return "{" + ",".join(parts) + "}"


def fts_text(paper: Paper) -> tuple[str, str, str, str]:
    return paper.title, paper.abstract, " ; ".join(paper.keywords), " ; ".join(paper.authors)


ENRICHMENT_COLUMNS = ("paper_id", "step", "version", "content_hash", "status", "output", "error", "model",
                      "updated_at")


def by_paper(enrichment_rows: list[tuple[Any, ...]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Enrichment rows (tuples in ENRICHMENT_COLUMNS order) by paper id and step, outputs parsed."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for row in enrichment_rows:
        item = dict(zip(ENRICHMENT_COLUMNS, row, strict=True))
        item["output"] = json.loads(item["output"]) if item["output"] else None
        out.setdefault(item["paper_id"], {})[item["step"]] = item
    return out


def parse_paper_rows(rows: list[tuple[int, str, str]], enrichment_rows: list[tuple[Any, ...]]
                     ) -> Iterator[tuple[int, Paper, dict[str, dict[str, Any]]]]:
    """One batch of Store.iter_raw_paper_rows as (rowid, paper, its enrichments by step)."""
    enrichments = by_paper(enrichment_rows)
    for rowid, pid, data in rows:
        yield rowid, load(data), enrichments.get(pid, {})


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
