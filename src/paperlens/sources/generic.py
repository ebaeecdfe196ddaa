"""Any table or JSON of papers (`generic`): CSV, TSV, JSON (a list, or {"papers": [...]}) or JSON lines whose
columns / keys name the usual fields, whatever the exact spelling: title, abstract (summary, abstract
note, description), authors (author, creators; a list, a list of {name} / {given, family} objects, or a
string separated by ';', ',' or ' and '), year, date (published, pub_date, publication_date, ...), doi,
url (link, abs, pdf), arxiv_id (arxiv, eprint), venue (journal, conference, booktitle), keywords (tags),
categories, tldr, code.

It is detected last, only when no other adapter claims the file, and only when the header (or the first
object) has a title-like column plus an abstract-like or authors-like one. Each record keeps its line:
the physical line a CSV row starts on, the line of a JSONL record, the line a JSON object opens on.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from paperlens.core.ids import normalize_arxiv_id, normalize_doi, openreview_id_from
from paperlens.core.models import Paper
from paperlens.sources.base import (
    BAD_BYTES,
    LONE_SURROGATE,
    InputLimitError,
    ReadContext,
    Rejected,
    Source,
    finish_paper,
    has_bad_bytes,
    json_lines,
    lone_surrogate_in,
    open_text,
    read_document,
)
from paperlens.sources.refcommon import DateParts, date_parts, note_date
from paperlens.sources.tabular import csv_rows, table_header

# paperlens field -> accepted column names, normalised (lower case, runs of space/-/. as '_')
ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "paper_title", "article_title", "document_title", "papertitle", "title_en"),
    "abstract": ("abstract", "summary", "abstract_note", "abstractnote", "abstract_text", "paper_abstract",
                 "description", "abstracts"),
    "authors": ("authors", "author", "author_names", "author_list", "authors_list", "creators", "creator",
                "authorships", "author_s"),
    "year": ("year", "publication_year", "pub_year", "py", "issued_year"),
    "date": ("date", "published", "pub_date", "publication_date", "published_date", "publish_date",
             "date_published", "submitted", "submission_date", "created", "release_date", "issued"),
    "doi": ("doi", "doi_url"),
    "url": ("url", "link", "abs_url", "abs", "paper_url", "pdf_url", "pdf", "href", "landing_page", "site"),
    "arxiv_id": ("arxiv_id", "arxiv", "arxivid", "arxiv_url", "eprint", "arxiv_number"),
    "openreview_id": ("openreview_id", "openreview", "openreview_url", "forum"),
    "id": ("id", "paper_id", "paperid", "identifier"),
    "venue": ("venue", "journal", "conference", "booktitle", "publication_title", "publication", "container_title",
              "source_title", "journal_title", "journal_ref", "journal_reference"),
    "keywords": ("keywords", "keyword", "tags", "manual_tags", "author_keywords", "topics"),
    "categories": ("categories", "category", "primary_category", "subjects", "arxiv_categories"),
    "tldr": ("tldr", "tl_dr", "tl;dr"),
    "code_url": ("code", "code_url", "github", "github_url", "repo", "repository", "code_link"),
}
_LOOKUP = {alias: field for field, names in ALIASES.items() for alias in names}
_NORMAL = re.compile(r"[\s\-.]+")
_KEY_IN_HEAD = re.compile(r'"((?:[^"\\]|\\.){1,40})"\s*:')
_LIST_KEYS = ("papers", "data", "results", "items", "records", "entries", "rows", "works", "articles")
_LIST_AT = re.compile(r'"(' + "|".join(_LIST_KEYS) + r')"\s*:\s*\[')
_OBJECT_LIST_AT = re.compile(r'"(' + "|".join(_LIST_KEYS) + r')"\s*:\s*\[\s*\{')
_YEAR = re.compile(r"\b(1[89]\d{2}|20\d{2}|21\d{2})\b")
_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_WS = re.compile(r"[ \t\n\r]*")


def field_of(column: str) -> str | None:
    """The paperlens field a column / key names, or None."""
    return _LOOKUP.get(_NORMAL.sub("_", column.strip().lower()).strip("_"))


def looks_like_papers(columns: list[str]) -> bool:
    fields = {field_of(c) for c in columns}
    return "title" in fields and bool(fields & {"abstract", "authors"})


class GenericSource(Source):
    name = "generic"
    description = "a CSV / TSV / JSON / JSONL of papers, read by its column names (title, abstract, authors, ...)"
    fallback = True  # detected only when no other adapter claims the file

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        if not looks_like_papers(_head_columns(head)):
            return False
        from paperlens.sources import SOURCES, claims

        return not any(claims(other, path, head) for name, other in SOURCES.items() if other is not cls)

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        with open_text(ctx.path) as handle:
            head = handle.read(8192)
            handle.seek(0)
            first = next((line for line in handle if line.strip()), "")
        start = head.lstrip("\ufeff \t\r\n")[:1]
        if start == "[" or (start == "{" and not _is_json_lines(first)):
            yield from self._json(ctx)
        elif start == "{":
            yield from self._json_lines(ctx)
        else:
            delimiter, columns = table_header(head)
            if not delimiter or "title" not in {field_of(c) for c in columns}:
                yield Rejected(ctx.path, 1, "no title column in the header (looked for: title, paper_title, ...)")
                return
            for item in csv_rows(ctx, set(), delimiter=delimiter):
                if isinstance(item, Rejected):
                    yield item
                    continue
                line, row = item
                yield self._record(ctx, row, line)

    def _record(self, ctx: ReadContext, data: Any, line: int) -> Paper | Rejected:
        if not isinstance(data, dict):
            return Rejected(ctx.path, line, "expected an object of paper fields")
        try:
            paper = paper_from_fields(data)
        except (ValueError, TypeError) as exc:
            return Rejected(ctx.path, line, str(exc))
        source_id = paper.arxiv_id or paper.openreview_id or paper.doi
        return finish_paper(paper, ctx, self.name, line, source_id=source_id)

    def _json_lines(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        for item in json_lines(ctx):
            if isinstance(item, Rejected):
                yield item
                continue
            number, data, text = item
            yield _lone_surrogate(ctx, number) if lone_surrogate_in(text, data) else self._record(ctx, data, number)

    def _json(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        try:
            with open_text(ctx.path) as handle:
                text = read_document(handle, ctx.path)  # bounded by PAPERLENS_MAX_DOCUMENT_BYTES
        except InputLimitError as exc:
            yield Rejected(ctx.path, 1, exc.message)
            return
        if has_bad_bytes(text):
            bad = next(n for n, line in enumerate(text.split("\n"), start=1) if has_bad_bytes(line))
            yield Rejected(ctx.path, bad, BAD_BYTES + "; the file is skipped")
            return
        pos = _WS.match(text, text.find(next(c for c in text if c in "[{"))).end()
        if text[pos] == "{":  # {"papers": [...]}: find the list of paper objects
            found = _LIST_AT.search(text)
            if not found:
                try:
                    data = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield Rejected(ctx.path, exc.lineno, f"invalid JSON ({exc.msg} at column {exc.colno})")
                    return
                except RecursionError:
                    yield Rejected(ctx.path, 1, "JSON nested too deeply to read")
                    return
                line = text.count("\n", 0, pos) + 1  # one paper object
                yield _lone_surrogate(ctx, line) if lone_surrogate_in(text, data) else self._record(ctx, data, line)
                return
            pos = found.end()
        else:
            pos += 1
        decoder = json.JSONDecoder()
        line, counted = 1, 0  # lines are counted incrementally: a big list stays linear
        while True:
            pos = _WS.match(text, pos).end()
            if pos >= len(text):
                line += text.count("\n", counted, pos)
                yield Rejected(ctx.path, line, "JSON ends before the list of papers is closed")
                return
            if text[pos] == "]":
                return
            line += text.count("\n", counted, pos)
            counted = pos
            try:
                start = pos
                data, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                yield Rejected(ctx.path, exc.lineno, f"invalid JSON ({exc.msg} at column {exc.colno}); "
                                                     "the rest of the file is skipped")
                return
            except RecursionError:
                yield Rejected(ctx.path, line, "JSON nested too deeply to read; the rest of the file is skipped")
                return
            lone = lone_surrogate_in(text[start:pos], data)
            yield _lone_surrogate(ctx, line) if lone else self._record(ctx, data, line)
            pos = _WS.match(text, pos).end()
            if text.startswith(",", pos):
                pos += 1
            elif not text.startswith("]", pos):
                line += text.count("\n", counted, pos)
                yield Rejected(ctx.path, line, "expected ',' or ']' after a paper")
                return


def _lone_surrogate(ctx: ReadContext, line: int) -> Rejected:
    # Such text cannot be stored (json.loads accepts the escape; SQLite and pydantic cannot encode it).
    return Rejected(ctx.path, line, LONE_SURROGATE)


def _is_json_lines(first: str) -> bool:
    try:
        return isinstance(json.loads(first), dict)
    except (ValueError, RecursionError):  # RecursionError: one line nested past the decoder's limit
        return False


def _head_columns(head: str) -> list[str]:
    """Column names of a table's header, or the keys of the first paper object of a JSON / JSONL head."""
    body = head.lstrip("\ufeff \t\r\n")
    if not body:
        return []
    if body[0] not in "[{":
        return table_header(head)[1]
    first = body.split("\n", 1)[0] if body[0] == "{" else ""
    if first:
        try:
            data = json.loads(first)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict):
            return list(data)
    # a JSON document: the keys of the first object inside the list (or the object), as far as the head goes
    found = _OBJECT_LIST_AT.search(body)
    start = found.end() - 1 if found else body.find("{")
    if start < 0:
        return []
    keys, depth, i = [], 0, start
    for match in _KEY_IN_HEAD.finditer(body, start):
        depth += body.count("{", i, match.start()) - body.count("}", i, match.start())
        i = match.start()
        if depth <= 0:
            break
        if depth == 1:
            keys.append(json.loads(f'"{match.group(1)}"'))
    return keys


# ------------------------------------------------------------------------------------ one record


def paper_from_fields(data: dict[str, Any]) -> Paper:
    """A mapping of loosely named paper fields -> Paper (not finished). ValueError when it is no paper."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        field = field_of(str(key))
        if field and field not in values and value not in (None, "", [], {}):
            values[field] = value
    title, abstract = _text(values.get("title")), _text(values.get("abstract"))
    if not title and not abstract:
        raise ValueError("record has neither title nor abstract")
    arxiv_id = normalize_arxiv_id(_text(values.get("arxiv_id")))
    doi = normalize_doi(_text(values.get("doi")))
    openreview_id = openreview_id_from(_text(values.get("openreview_id")))
    url = _text(values.get("url"))
    for candidate in (url, _text(values.get("id"))):
        if not candidate:
            continue
        arxiv_id = arxiv_id or (normalize_arxiv_id(candidate) if "/" in candidate or "arxiv" in candidate.lower()
                                or re.fullmatch(r"\d{4}\.\d{4,5}(v\d+)?", candidate) else None)
        doi = doi or normalize_doi(candidate)
        if "openreview.net" in candidate:
            openreview_id = openreview_id or openreview_id_from(candidate)
    iso, dropped = _date(values.get("date"))
    year = _year(values.get("year")) or (int(iso[:4]) if iso else _year(values.get("date")))
    extra: dict[str, Any] = {}
    if dropped:  # an impossible month or day: the year (and a valid month) are kept, the value as written too
        note_date(extra, DateParts(year, iso, dropped=True), values.get("date"))
    if url.startswith("http"):
        extra["url"] = url
    code = _text(values.get("code_url"))
    return Paper(
        title=title, abstract_raw=abstract, authors=parse_authors(values.get("authors")), date=iso, year=year,
        venue=_venue(values.get("venue")), keywords=_list(values.get("keywords")),
        categories=_list(values.get("categories"), space=True), tldr=_text(values.get("tldr")) or None,
        code_url=code if code.startswith("http") else None, arxiv_id=arxiv_id, doi=doi,
        openreview_id=openreview_id, extra=extra,
    )


def _text(value: Any) -> str:
    if isinstance(value, str):
        return " ".join(value.split()) if "\n" in value or "  " in value else value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):  # {"value": ...} (OpenReview v2) or {"text": ...}
        for key in ("value", "text", "name", "title"):
            if isinstance(value.get(key), str):
                return value[key].strip()
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return " ".join(v.strip() for v in value)  # a title or abstract split in parts
    return ""


def _literal_list(value: str) -> list | None:
    value = value.strip()
    if len(value) > 1 and value[0] == "[" and value[-1] == "]":
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
        return parsed if isinstance(parsed, list) else None
    return None


def parse_authors(value: Any) -> list[str]:
    """Names from a list (of strings or {name} / {given, family} objects) or a separated string."""
    if isinstance(value, str):
        literal = _literal_list(value)
        if literal is not None:
            value = literal
        else:
            return _split_names(value)
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    names = []
    for item in value:
        if isinstance(item, str):
            names.append(" ".join(item.split()))
        elif isinstance(item, dict):
            name = _person(item)
            if name:
                names.append(name)
        elif isinstance(item, list | tuple) and item and all(isinstance(p, str) for p in item):
            names.append(" ".join(p.strip() for p in reversed(item[:2]) if p.strip()))  # [last, first]
    return [n for n in names if n]


def _person(item: dict[str, Any]) -> str:
    for key in ("name", "full_name", "fullname", "display_name", "literal"):
        if isinstance(item.get(key), str) and item[key].strip():
            return " ".join(item[key].split())
    if isinstance(item.get("author"), dict):  # OpenAlex authorships
        return _person(item["author"])
    first = next((item[k] for k in ("given", "first", "firstName", "first_name", "forename") if
                  isinstance(item.get(k), str)), "")
    last = next((item[k] for k in ("family", "last", "lastName", "last_name", "surname") if
                 isinstance(item.get(k), str)), "")
    return " ".join(f"{first} {last}".split())


def _split_names(value: str) -> list[str]:
    value = " ".join(value.split())
    if not value:
        return []
    if ";" in value:
        parts = [p.strip() for p in value.split(";")]
        return [_reorder(p) for p in parts if p]
    if re.search(r"\s+and\s+", value):
        chunks = [c.strip() for c in re.split(r"\s+and\s+", value) if c.strip()]
        if len(chunks) > 1 and all(c.count(",") == 1 for c in chunks):  # 'Last, First and Last, First'
            return [_reorder(c) for c in chunks]
        return [p.strip() for c in chunks for p in c.split(",") if p.strip()]
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) == 2 and " " not in parts[0]:  # 'Aalto, Sven': one author, last name first
        return [f"{parts[1]} {parts[0]}"]
    return parts


def _reorder(name: str) -> str:
    """'Hong, Yining' -> 'Yining Hong'; a name without one comma is kept."""
    if name.count(",") == 1:
        last, first = (p.strip() for p in name.split(","))
        if first and last and first.lower().rstrip(".") not in ("jr", "sr", "ii", "iii"):
            return f"{first} {last}"
    return name


def _list(value: Any, space: bool = False) -> list[str]:
    if isinstance(value, str):
        literal = _literal_list(value)
        if literal is None:
            separator = r"[;,]" if re.search(r"[;,]", value) or not space else r"\s+"
            return [p.strip() for p in re.split(separator, value) if p.strip()]
        value = literal
    if isinstance(value, list):
        return [_text(v) for v in value if _text(v)]
    return []


def _venue(value: Any) -> str | None:
    text = _text(value) if not isinstance(value, list) else _text(value[0]) if value else ""
    return text or None


def _year(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 1800 <= value <= 2200 else None
    match = _YEAR.search(_text(value))
    return int(match.group(1)) if match else None


def _date(value: Any) -> tuple[str | None, bool]:
    """(ISO date or None, whether an impossible month or day was dropped). As the reference-manager
    readers do (refcommon.date_parts): 2026-02-30 keeps 2026-02, 2026-13 only the year."""
    if isinstance(value, dict) and isinstance(value.get("date-parts"), list):  # CSL-style
        parts = value["date-parts"][0] if value["date-parts"] else []
        value = "-".join(str(p).zfill(2) for p in parts if isinstance(p, int))
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value))
    text = _text(value)
    if not text:
        return None, False
    match = _ISO.match(text)
    if match:
        when = date_parts(*match.groups())
        if when.year is None:
            return None, False
        return when.iso, when.dropped  # a year alone is no date (the year is kept)
    try:
        return parsedate_to_datetime(text).date().isoformat(), False
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    for pattern in ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%m/%d/%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(text, pattern).date().isoformat(), False
        except ValueError:
            continue
    return None, False


__all__ = ["ALIASES", "GenericSource", "field_of", "looks_like_papers", "paper_from_fields", "parse_authors"]
