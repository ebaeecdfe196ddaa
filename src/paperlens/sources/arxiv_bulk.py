"""arXiv bulk metadata (the Kaggle snapshot): JSON lines (`arxiv-jsonl`) and its CSV form (`arxiv-csv`).

Both are read a record at a time, so a multi-GB snapshot (also .gz/.bz2/.xz) streams in constant memory.
In the CSV form `versions` and `authors_parsed` are Python literals and an id may have lost its
leading zero ('704.0001'); `update_date` is MM/DD/YYYY or ISO.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from paperlens.core.clean import latex_to_text
from paperlens.core.ids import normalize_arxiv_id
from paperlens.core.models import Paper
from paperlens.sources.base import (
    ReadContext,
    Rejected,
    Source,
    finish_paper,
    json_depth_error,
    json_objects,
)
from paperlens.sources.tabular import csv_header, csv_rows

# Columns of the snapshot; a CSV must have at least these to be read as one.
KAGGLE_FIELDS = ("id", "submitter", "authors", "title", "comments", "journal-ref", "doi", "report-no",
                 "categories", "license", "abstract", "versions", "update_date", "authors_parsed")
_REQUIRED_CSV = {"id", "title", "abstract", "categories"}
_AND = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")
_MMDDYYYY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_NEW_ID_DATE = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_OLD_ID_DATE = re.compile(r"/(\d{2})(\d{2})\d{3}$")
_RFC_DATE = re.compile(r"^\s*(?:[A-Za-z]{3},\s*)?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{2}:\d{2}(?::\d{2})?) (\S+)\s*$")
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                       "Dec"), start=1)}
_NUMERIC_ID = re.compile(r"^(\d{3,4})\.(\d{1,5})$")
_FIRST_CREATED = re.compile(r"""['"]created['"]\s*:\s*['"]([^'"]+)['"]""")


class KaggleRecordError(ValueError):
    """A record that is the right shape overall but cannot become a paper."""


def paper_from_kaggle(data: dict[str, Any], literals: bool = False) -> Paper:
    """One snapshot record -> Paper (not finished). `literals`: versions/authors_parsed are Python reprs."""
    raw_id = _text(data.get("id"))
    arxiv_id = normalize_arxiv_id(_repair_numeric_id(raw_id) if literals else raw_id)
    if not arxiv_id:
        raise KaggleRecordError(f"not an arXiv id: {raw_id[:40]!r}" if raw_id else "record has no id")
    title = _text(data.get("title"))
    abstract = _text(data.get("abstract"))
    if not title and not abstract:
        raise KaggleRecordError("record has neither title nor abstract")
    if literals:
        versions = data.get("versions") or ""
        first = _FIRST_CREATED.search(versions)  # cheaper than evaluating the whole list
        created = _rfc_date(first.group(1)) if first else None
        parsed = _literal(data.get("authors_parsed"), "authors_parsed")
    else:
        created = _first_version_date(data.get("versions"))
        parsed = data.get("authors_parsed")
    iso = created or date_from_id(arxiv_id)
    extra: dict[str, Any] = {}
    for key, name in (("comments", "comments"), ("license", "license"), ("report-no", "report_no")):
        value = _text(data.get(key))
        if value:
            extra[name] = " ".join(value.split())
    updated = _iso_date(_text(data.get("update_date")))
    if updated:
        extra["update_date"] = updated
    venue = " ".join(_text(data.get("journal-ref")).split()) or None
    return Paper(
        title=title, authors=_authors(parsed, _text(data.get("authors"))), date=iso,
        year=int(iso[:4]) if iso else None, categories=_text(data.get("categories")).split(),
        venue=venue, abstract_raw=abstract.strip(), arxiv_id=arxiv_id, doi=_text(data.get("doi")) or None,
        extra=extra,
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):  # a spreadsheet-typed id
        return repr(value)
    return value if isinstance(value, str) else str(value)


def _literal(value: Any, name: str) -> Any:
    if not value or not isinstance(value, str):
        return value or None
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise KaggleRecordError(f"{name} is not a list literal") from exc


# What latex_to_text would act on in a name made of stripped parts joined by single spaces: markup
# (backslash, dollar, tilde, ``) or what normalize_space changes (odd spaces, breaks, a space before
# punctuation). A name with none of them comes back from latex_to_text exactly as it went in.
_NAME_TO_CLEAN = re.compile(r"[\\$~\u00a0\r\n\t\f\v]|``|  | [,.;:!?)]")


def _authors(parsed: Any, authors: str) -> list[str]:
    if isinstance(parsed, list) and parsed:
        names = []
        for entry in parsed:
            if isinstance(entry, list | tuple) and entry:
                # [last, first, suffix]: the name reads first last suffix
                parts = []
                for part in (entry[1] if len(entry) > 1 else "", entry[0], entry[2] if len(entry) > 2 else ""):
                    if part:
                        part = (part if isinstance(part, str) else str(part)).strip()
                        if part:
                            parts.append(part)
                if parts:
                    names.append(" ".join(parts))
        if names:
            # one scan of the whole list (no pattern spans the NUL between two names) instead of a
            # latex_to_text call per name; a list with something to clean is cleaned name by name
            if _NAME_TO_CLEAN.search("\0".join(names)) is None:
                return names
            return [latex_to_text(name) for name in names]
    text = latex_to_text(authors) if authors else ""
    return [part for part in _AND.split(text) if part.strip()]


def _first_version_date(versions: Any) -> str | None:
    if not isinstance(versions, list) or not versions:
        return None
    first = versions[0]
    created = first.get("created") if isinstance(first, dict) else None
    return _rfc_date(created) if isinstance(created, str) else None


def _rfc_date(text: str) -> str | None:
    """'Mon, 2 Apr 2007 19:18:42 GMT' -> '2007-04-02'."""
    match = _RFC_DATE.match(text)
    if match and match.group(5) in ("GMT", "UTC", "+0000"):  # the snapshot's form: no time zone to apply
        day, month, year = int(match.group(1)), _MONTHS.get(match.group(2)), int(match.group(3))
        if month:
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                return None
    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _repair_numeric_id(raw: str) -> str:
    """Undo a spreadsheet reading an id as a number: '704.001' was 0704.0010, '1501.1' was 1501.10000."""
    match = _NUMERIC_ID.match(raw.strip())
    if not match:
        return raw
    yymm, number = match.group(1).zfill(4), match.group(2)
    width = 5 if yymm >= "1501" else 4
    return f"{yymm}.{number.ljust(width, '0')}" if len(number) < width else f"{yymm}.{number}"


def date_from_id(arxiv_id: str) -> str | None:
    """'0704.0001' -> '2007-04': the month an id was issued in, when versions say nothing."""
    match = _NEW_ID_DATE.match(arxiv_id) or _OLD_ID_DATE.search(arxiv_id)
    if not match:
        return None
    yy, mm = int(match.group(1)), int(match.group(2))
    if not 1 <= mm <= 12:
        return None
    return f"{(1900 if yy >= 91 else 2000) + yy}-{mm:02d}"


def _iso_date(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    match = _MMDDYYYY.match(text)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(1)), int(match.group(2))).isoformat()
        return datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        return None


def _finish(paper: Paper, ctx: ReadContext, source: str, line: int, record_chars: int | None = None) -> Paper | Rejected:
    return finish_paper(paper, ctx, source, line, source_id=paper.arxiv_id, record_chars=record_chars)


class ArxivJsonlSource(Source):
    name = "arxiv-jsonl"
    description = "arXiv bulk metadata snapshot (Kaggle), JSON lines"
    shardable = True

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        first = head.lstrip().split("\n", 1)[0]
        if not first.startswith("{"):
            return False
        try:
            keys = set(json.loads(first)) if json_depth_error(first) is None else set()
        except (ValueError, TypeError, RecursionError):  # a first line longer than the sniffed head
            return '"submitter"' in first or ('"versions"' in first and '"categories"' in first)
        return "id" in keys and len(keys & {"submitter", "versions", "authors_parsed", "update_date",
                                             "journal-ref"}) >= 2

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        for item in json_objects(ctx, loads=_json_loads()):
            if isinstance(item, Rejected):
                yield item
                continue
            number, data, line = item
            try:
                paper = paper_from_kaggle(data)
            except KaggleRecordError as exc:
                yield Rejected(ctx.path, number, str(exc))
                continue
            yield _finish(paper, ctx, self.name, number, len(line))


def _json_loads():
    try:
        import orjson  # optional: faster on big snapshots

        return orjson.loads
    except ImportError:  # pragma: no cover
        return json.loads


class ArxivCsvSource(Source):
    name = "arxiv-csv"
    description = "arXiv bulk metadata snapshot (Kaggle) as CSV"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        columns = csv_header(head)
        return _REQUIRED_CSV <= columns and bool(columns & {"submitter", "authors_parsed", "versions"})

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        for item in csv_rows(ctx, _REQUIRED_CSV):
            if isinstance(item, Rejected):
                yield item
                continue
            line, row = item
            try:
                paper = paper_from_kaggle(row, literals=True)
            except KaggleRecordError as exc:
                yield Rejected(ctx.path, line, str(exc))
                continue
            yield _finish(paper, ctx, self.name, line)
