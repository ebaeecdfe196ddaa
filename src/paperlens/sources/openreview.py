"""OpenReview: API notes as JSON (`openreview-json`) and the ICLR-style paper CSV (`iclr-csv`).

Notes come as `{"notes": [...]}` (an API response), a bare list, or one note per line. API v2 wraps
every content field as `{"value": ...}`; v1 notes hold plain values; both are read. Notes of a JSON
document are decoded one at a time so each keeps the line it starts on and a truncated file still
gives the notes before the break.

The ICLR CSV also carries a third party's model output (explain_zh, haiku_category, cluster labels):
those columns are never read.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paperlens.core.ids import openreview_id_from
from paperlens.core.models import Paper, Topic
from paperlens.sources.base import (
    BAD_BYTES,
    InputLimitError,
    ReadContext,
    Rejected,
    Source,
    finish_paper,
    has_surrogates,
    json_depth_error,
    open_text,
    read_document,
)
from paperlens.sources.tabular import csv_rows, table_header

_NOTES_ARRAY = re.compile(r'"notes"\s*:\s*\[')
# The expertise API's input: {"notes": {"<invitation or user>": [notes], ...}, ...}.
_NOTES_BY_KEY = re.compile(r'"notes"\s*:\s*\{')
_CONTENT_OBJECT = re.compile(r'"content"\s*:\s*\{')
# A note without forum / invitation (an expertise archive, a profile's publications): an id, an
# OpenReview timestamp and a content object with a title.
_NOTE_DATE = re.compile(r'"(?:cdate|mdate|tcdate|tmdate|pdate)"\s*:\s*\d')
_CONTENT_TITLE = re.compile(r'"content"\s*:\s*\{\s*"title"\s*:')
# Lists of notes inside a wrapper object (a crawler's {"venue", "year", "submissions": [...]}).
_NOTE_LISTS = ("notes", "submissions", "publications")
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_LIST_SEP = re.compile(r"[,;]")
_WS = re.compile(r"[ \t\n\r]*")
# Columns the ICLR CSV must have; the rest are optional. Third-party columns are deliberately not listed.
ICLR_REQUIRED = {"openreview_url", "title", "abstract"}
ICLR_RATINGS = (("avg_rating", float), ("avg_confidence", float), ("n_ratings", int))
# Other OpenReview paper tables (scraped ICLR lists): a link / id column instead of openreview_url, and
# review columns (decision, ratings as a list literal, ...).
_URL_COLUMNS = ("openreview_url", "link", "url", "forum_url", "paper_url", "openreview")
_ID_COLUMNS = ("id", "paper_id", "forum", "note_id", "openreview_id")
_REVIEW_COLUMNS = {"decision", "ratings", "rating", "confidences", "withdraw", "withdrawn", "recommendation",
                   "scores", "avg_rating"}
_LIST_LITERAL = re.compile(r"^\[.*\]$", re.S)


def _value(content: dict[str, Any], key: str) -> Any:
    field = content.get(key)
    if isinstance(field, dict) and "value" in field:  # API v2
        return field["value"]
    return field


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _str_list(value: Any) -> list[str]:
    if isinstance(value, str):  # 'a, b' (some authors separate with ';')
        return [part.strip().rstrip(".").strip() for part in _LIST_SEP.split(value) if part.strip(" .")]
    if isinstance(value, list):
        return [item.strip() for item in value if isinstance(item, str) and item.strip()]
    return []


def _ms_date(value: Any) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        return None
    # OpenReview writes milliseconds; some tools' note dumps write seconds (a millisecond value this
    # small would be before 1974, years before OpenReview).
    seconds = value if value < 1e11 else value / 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def _year_of(venue: str | None) -> int | None:
    match = _YEAR.search(venue or "")
    return int(match.group(0)) if match else None


def paper_from_note(note: dict[str, Any]) -> Paper:
    """One OpenReview note (v1 or v2) -> Paper (not finished). ValueError when it is not a paper."""
    content = note.get("content")
    if not isinstance(content, dict):
        raise ValueError("note has no content object")
    title, abstract = _text(_value(content, "title")), _text(_value(content, "abstract"))
    if not title and not abstract:
        raise ValueError("note has neither title nor abstract")
    forum = note.get("forum") or note.get("id")
    openreview_id = forum if isinstance(forum, str) and forum.strip() else None
    venue = _text(_value(content, "venue")) or None
    area = _text(_value(content, "primary_area")) or None
    iso = _ms_date(note.get("pdate")) or _ms_date(note.get("cdate")) or _ms_date(note.get("tcdate"))
    extra: dict[str, Any] = {}
    venueid = _text(_value(content, "venueid"))
    if venueid:
        extra["venueid"] = venueid
    code = _text(_value(content, "code")) or None
    return Paper(
        title=title, authors=_str_list(_value(content, "authors")), abstract_raw=abstract,
        keywords=_str_list(_value(content, "keywords")), tldr=_text(_value(content, "TLDR")) or None,
        venue=venue, date=iso, year=_year_of(venue) or (int(iso[:4]) if iso else None),
        topic=Topic(area=area) if area else None, openreview_id=openreview_id,
        code_url=code if code and code.startswith("http") else None, extra=extra,
    )


class OpenReviewJsonSource(Source):
    name = "openreview-json"
    description = 'OpenReview API notes: {"notes": [...]}, a list of notes, or one note per line'

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        start = head.lstrip("\ufeff \t\r\n")[:1]
        if start not in ("{", "["):
            return False
        if not _CONTENT_OBJECT.search(head):
            return False
        if '"forum"' in head or '"invitation' in head:
            return True
        return '"id"' in head and bool(_CONTENT_TITLE.search(head)) and (
            bool(_NOTE_DATE.search(head)) or bool(_NOTES_BY_KEY.search(head)))

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        try:
            with open_text(ctx.path) as handle:
                # an API response is one JSON document; notes are decoded one by one
                text = read_document(handle, ctx.path)
        except InputLimitError as exc:
            yield Rejected(ctx.path, 1, exc.message)
            return
        body = text.lstrip("\ufeff \t\r\n")
        if body.startswith("["):
            yield from self._array(ctx, text, text.index("[") + 1)
            return
        notes = _NOTES_ARRAY.search(text)
        first_line = body.split("\n", 1)[0]
        if notes and not _is_one_note(first_line):
            yield from self._array(ctx, text, notes.end())
            return
        if body.startswith("{") and _NOTES_BY_KEY.search(text) and not _is_one_note(first_line):
            # An expertise-API input: the notes by invitation, and the reviewers' profiles with their
            # submissions and publications; a note listed twice (as both) is read once.
            self._seen = set()
            yield from self._object(ctx, text, text.index("{"), lists=("notes", "profiles"))
            return
        yield from self._lines(ctx, text)

    _seen: set[str] | None = None

    def _array(self, ctx: ReadContext, text: str, pos: int) -> Iterator[Paper | Rejected]:
        """The notes of the list whose '[' is before `pos`; returns the position after its ']' (None:
        the rest of the file cannot be read). An item that is no note but holds lists of notes
        (`submissions`, `notes`, `publications`) gives those notes."""
        decoder = json.JSONDecoder()
        line_at = _LineCounter(text)  # counts on from the last position: linear over the whole file
        while True:
            pos = _WS.match(text, pos).end()
            if pos >= len(text):
                # on the last line with any content: the end of the file is not a line of its own
                yield Rejected(ctx.path, line_at(len(text.rstrip())), "JSON ends before the list of notes is closed")
                return None
            if text[pos] == "]":
                return pos + 1
            line, start = line_at(pos), pos
            try:
                note, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                yield Rejected(ctx.path, min(exc.lineno, _line_at(text, len(text.rstrip()))),
                               f"invalid JSON ({exc.msg} at column {exc.colno}); "
                                                     "the rest of the file is skipped")
                return None
            except RecursionError:  # the decoder's own limit (Python's recursion limit, about 1,000 levels)
                yield Rejected(ctx.path, line, "JSON nested too deeply to read; the rest of the file is skipped")
                return None
            if _is_wrapper(note):
                end = yield from self._object(ctx, text, start, lists=_NOTE_LISTS)
                if end is None:
                    return None
            elif (self._seen is None or not isinstance(note, dict) or not isinstance(note.get("id"), str)
                  or note["id"] not in self._seen):
                if self._seen is not None and isinstance(note, dict) and isinstance(note.get("id"), str):
                    self._seen.add(note["id"])
                yield self._note(ctx, note, line)
            pos = _WS.match(text, pos).end()
            if text.startswith(",", pos):
                pos += 1
            elif not text.startswith("]", pos):
                yield Rejected(ctx.path, line_at(pos), "expected ',' or ']' after a note")
                return None

    def _object(self, ctx: ReadContext, text: str, pos: int, lists: tuple[str, ...] | None) -> Iterator[Paper | Rejected]:
        """The notes in the lists of the object at `pos`: those under the keys `lists`, or (None) under
        every key, as in {"<invitation>": [notes]}; `notes` holding such an object is read the same way.
        Returns the position after the object's '}' (None: the rest of the file cannot be read)."""
        decoder = json.JSONDecoder()
        pos = _WS.match(text, pos + 1).end()
        while not text.startswith("}", pos):
            try:
                key, pos = decoder.raw_decode(text, pos)
                pos = _WS.match(text, pos).end()
                if not isinstance(key, str) or not text.startswith(":", pos):
                    raise ValueError("expected a key and ':'")
                pos = _WS.match(text, pos + 1).end()
                if (lists is None or key in lists) and text.startswith("[", pos):
                    pos = yield from self._array(ctx, text, pos + 1)
                    if pos is None:
                        return None
                elif lists is not None and key == "notes" and text.startswith("{", pos):
                    pos = yield from self._object(ctx, text, pos, lists=None)
                    if pos is None:
                        return None
                else:
                    pos = decoder.raw_decode(text, pos)[1]
            except (ValueError, RecursionError) as exc:  # RecursionError: nested past the decoder's limit
                message = (f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError)
                           else "nested too deeply" if isinstance(exc, RecursionError) else str(exc))
                yield Rejected(ctx.path, _line_at(text, pos), f"invalid JSON ({message}); the rest of the file is skipped")
                return None
            pos = _WS.match(text, pos).end()
            if text.startswith(",", pos):
                pos = _WS.match(text, pos + 1).end()
            elif not text.startswith("}", pos):
                yield Rejected(ctx.path, _line_at(text, pos), "invalid JSON: expected ',' or '}'; the rest of the file "
                                                               "is skipped")
                return None
        return pos + 1

    def _lines(self, ctx: ReadContext, text: str) -> Iterator[Paper | Rejected]:
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            too_deep = json_depth_error(line, ctx.json_depth)
            if too_deep:
                yield Rejected(ctx.path, number, too_deep)
                continue
            try:
                note = json.loads(line)
            except RecursionError:  # a safety net: the depth check above comes first
                yield Rejected(ctx.path, number, "JSON nested too deeply to read")
                continue
            except ValueError as exc:
                message = f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
                yield Rejected(ctx.path, number, f"invalid JSON ({message})")
                continue
            yield self._note(ctx, note, number)

    def _note(self, ctx: ReadContext, note: Any, line: int) -> Paper | Rejected:
        if not isinstance(note, dict):
            return Rejected(ctx.path, line, "expected a note object")
        if has_surrogates(json.dumps(note, ensure_ascii=False)):
            return Rejected(ctx.path, line, BAD_BYTES + ", or a lone "
                                            "surrogate escape such as \\ud800")
        try:
            paper = paper_from_note(note)
        except (ValueError, TypeError) as exc:
            return Rejected(ctx.path, line, str(exc))
        note_id = note.get("id") if isinstance(note.get("id"), str) else None
        return finish_paper(paper, ctx, self.name, line, source_id=note_id)


def _number_list(value: str) -> list[float | int] | None:
    """'[5, 6, 8]' (or '5;6;8') -> numbers; None when it is not one."""
    parts = value.strip().strip("[]").replace(";", ",").split(",")
    numbers: list[float | int] = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        try:
            number = float(part)
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        numbers.append(int(number) if number.is_integer() else number)
    return numbers


def _literal_strings(value: str) -> list[str]:
    import ast

    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return _str_list(value.strip().strip("[]"))
    return [item.strip() for item in parsed if isinstance(item, str) and item.strip()] if isinstance(parsed, list) \
        else []


def _is_wrapper(item: Any) -> bool:
    """An object that is no note but holds lists of notes: a crawler's {"venue", "submissions": [...]},
    an expertise profile {"id": "~Name1", "content": {emails}, "publications": [...]}."""
    if not isinstance(item, dict) or not any(isinstance(item.get(k), list | dict) for k in _NOTE_LISTS):
        return False
    content = item.get("content")
    return not (isinstance(content, dict) and ("title" in content or "abstract" in content))


def _is_one_note(line: str) -> bool:
    if json_depth_error(line):
        return False
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "content" in data


def _line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, min(pos, len(text))) + 1


class _LineCounter:
    """line_at(pos) for positions that mostly go forward: counts only the newlines since the last call."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def __call__(self, pos: int) -> int:
        pos = min(pos, len(self.text))
        if pos < self.pos:
            return _line_at(self.text, pos)
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


class IclrCsvSource(Source):
    name = "iclr-csv"
    description = "ICLR-style OpenReview paper CSV (openreview_url, venue, title, abstract, keywords, primary_area, ...)"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        delimiter, columns = table_header(head)
        names = {c.lower() for c in columns}
        if delimiter == "," and ICLR_REQUIRED <= names:
            return True
        if "title" not in names:
            return False
        if names & set(_URL_COLUMNS) and "openreview.net/forum" in head:
            return True
        return bool(names & set(_ID_COLUMNS)) and len(names & _REVIEW_COLUMNS) >= 2

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        with open_text(ctx.path) as handle:
            delimiter, columns = table_header(handle.read(8192))
        required = ICLR_REQUIRED if {c.lower() for c in columns} >= ICLR_REQUIRED else {"title"}
        for item in csv_rows(ctx, required, delimiter=delimiter or ","):
            if isinstance(item, Rejected):
                yield item
                continue
            line, row = item
            try:
                paper = self._paper({k.lower(): v for k, v in row.items()})
            except ValueError as exc:
                yield Rejected(ctx.path, line, str(exc))
                continue
            yield finish_paper(paper, ctx, self.name, line, source_id=paper.openreview_id)

    @staticmethod
    def _paper(row: dict[str, str]) -> Paper:
        url = next((row[c].strip() for c in _URL_COLUMNS if row.get(c, "").strip()), "")
        openreview_id = openreview_id_from(url) if "openreview" in url or "id=" in url else None
        if url and "openreview" in url and not openreview_id:
            raise ValueError(f"openreview_url has no paper id: {url[:60]!r}")
        if not openreview_id:
            raw = next((row[c].strip() for c in _ID_COLUMNS if row.get(c, "").strip()), "")
            openreview_id = openreview_id_from(raw) if raw else None
        title, abstract = row.get("title", "").strip(), row.get("abstract", "").strip()
        if not title and not abstract:
            raise ValueError("row has neither title nor abstract")
        venue = row.get("venue", "").strip() or None
        area = row.get("primary_area", "").strip() or None
        extra: dict[str, Any] = {}
        for column, kind in ICLR_RATINGS:
            value = row.get(column, "").strip()
            if value:
                try:
                    number = float(value)
                    if not math.isfinite(number):
                        raise ValueError("not finite")
                    extra[column] = int(number) if kind is int else number
                except ValueError as exc:
                    raise ValueError(f"{column} is not a finite number: {value[:20]!r}") from exc
        for column in ("ratings", "confidences"):
            value = row.get(column, "").strip()
            if value:
                numbers = _number_list(value)
                if numbers is None:
                    raise ValueError(f"{column} is not a list of numbers: {value[:30]!r}")
                extra[column] = numbers
        decision = row.get("decision", "").strip()
        if decision:
            extra["decision"] = decision
        withdrawn = (row.get("withdraw") or row.get("withdrawn") or "").strip().lower()
        if withdrawn in ("1", "true", "yes"):
            extra["withdrawn"] = True
        keywords = row.get("keywords", "")
        if _LIST_LITERAL.match(keywords.strip()):
            keywords = _literal_strings(keywords)
        return Paper(
            title=title, abstract_raw=abstract, venue=venue, year=_year_of(venue),
            keywords=_str_list(keywords),
            # The CSV names the area its authors chose and no finer topic.
            topic=Topic(area=area, label=None) if area else None,
            openreview_id=openreview_id, extra=extra,
        )
