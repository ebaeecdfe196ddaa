"""What the reference-manager and API adapters share (RIS, CSL-JSON, Better BibTeX JSON, Semantic
Scholar, paper-copilot): names, dates, arXiv ids and DOIs found in free text, and a JSON reader that
yields one record at a time with the line it starts on.

JSON documents are read whole, so their size is bounded: a file above `max_json_mb()` MiB of text
(256 by default, `PAPERLENS_MAX_JSON_MB` to change it) is refused with one Rejected instead of
running out of memory. Records are decoded one by one with `json.JSONDecoder.raw_decode`, so a broken
record names its line, the records before it are kept, and nesting too deep for the decoder becomes a
Rejected (file and line) rather than a RecursionError.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date as _date
from typing import Any, ClassVar
from urllib.parse import unquote

from paperlens.core.ids import normalize_arxiv_id, normalize_doi
from paperlens.core.models import Paper
from paperlens.sources.base import (
    BAD_BYTES,
    EMPTY_ONCE_CLEANED,
    ReadContext,
    Rejected,
    Source,
    finish_paper,
    has_bad_bytes,
    open_text,
)

DEFAULT_MAX_JSON_MB = 256

# ---------------------------------------------------------------- identifiers in free text

_ARXIV_IN_TEXT = re.compile(
    r"(?:\barxiv\s*:\s*|\barxiv\s+(?=\d{4}\.)|arxiv\.org/(?:abs|pdf)/|10\.48550/arxiv\.)"
    r"((?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[a-z]{2})?/\d{7})(?:v\d+)?)",
    re.I,
)
_DOI_IN_URL = re.compile(
    r"(?:^|//)(?:[\w-]+\.)*(?:doi\.org|doi\.acm\.org|doi\.wiley\.com|doi\.ieeecomputersociety\.org)/"
    r"(?:doi:)?(10\.\d{4,9}/[^\s?#]+)"
    r"|/doi/(?:abs/|full/|pdf/|epdf/|book/|chapter/)?(10\.\d{4,9}/[^\s?#]+)",
    re.I,
)
_DOI_IN_TEXT = re.compile(r"\bdoi\s*:?\s*(10\.\d{4,9}/\S+)", re.I)
_DOI_TRAILING = ".,;:)]}>'\""


def find_arxiv_id(*texts: Any) -> str | None:
    """The first arXiv id named in the texts: 'arXiv:2101.00001', 'arXiv: hep-th/9901001v2',
    an arxiv.org/abs or /pdf URL, or an arXiv DOI (10.48550/arXiv.2101.00001)."""
    for text in texts:
        if not isinstance(text, str) or "rxiv" not in text.lower():
            continue
        for match in _ARXIV_IN_TEXT.finditer(text):
            found = normalize_arxiv_id(match.group(1))
            if found:
                return found
    return None


def doi_from_url(url: Any) -> str | None:
    """DOI of a resolver link of any host (doi.org, dx.doi.org, doi.acm.org, ...) or of a publisher
    page of the common `/doi/abs/10....` layout."""
    if not isinstance(url, str) or "10." not in url:
        return None
    match = _DOI_IN_URL.search(unquote(url.strip()))
    if not match:
        return None
    return normalize_doi((match.group(1) or match.group(2)).rstrip(_DOI_TRAILING))


def find_doi(*values: Any) -> str | None:
    """The first DOI among the values: a bare DOI ('10.1/x', 'doi:10.1/x'), a resolver URL, or
    'doi: 10.1/x' inside a note."""
    for value in values:
        if not isinstance(value, str) or "10." not in value:
            continue
        value = value.strip()
        if "//" in value:
            doi = doi_from_url(value)
        else:
            doi = normalize_doi(value.rstrip(_DOI_TRAILING))
        if not doi:
            match = _DOI_IN_TEXT.search(value)
            doi = normalize_doi(match.group(1).rstrip(_DOI_TRAILING)) if match else None
        if doi:
            return doi
    return None


# ---------------------------------------------------------------- names

_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "v"}
# Han ideographs (CJK Unified Ideographs, extension A, compatibility) and the middle dot of transcribed names.
_HAN_NAME = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+(?:[·・][\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)*")


def han_name(family: str, given: str) -> str | None:
    """'张', '三' -> '张三': a name whose family and given parts are both Han is written family first without a
    space, as in Chinese; None for any other name (Western order applies)."""
    family, given = family.strip(), given.strip()
    if family and given and _HAN_NAME.fullmatch(family) and _HAN_NAME.fullmatch(given):
        return family + given
    return None


def inverted_name(name: str) -> str:
    """'Family, Given' -> 'Given Family'; 'Family, Given, Jr.' and 'Family, Jr., Given' -> 'Given
    Family Jr.'; a name without a comma is kept."""
    name = " ".join(name.split())
    if "," not in name:
        return name
    parts = [p.strip() for p in name.split(",")]
    parts = [p for p in parts if p]
    if not parts:  # only commas, e.g. "," or ", ,"
        return ""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return han_name(parts[0], parts[1]) or f"{parts[1]} {parts[0]}"
    family, second, third = parts[0], parts[1], " ".join(parts[2:])
    if second.lower() in _SUFFIXES:
        return f"{third} {family} {second}"
    return f"{second} {family} {third}"


def csl_name(person: Any) -> str:
    """A CSL name object ({family, given, particles, suffix} or {literal}) as 'Given Family'."""
    if isinstance(person, str):
        return " ".join(person.split())
    if not isinstance(person, dict):
        return ""
    literal = person.get("literal")
    if isinstance(literal, str) and literal.strip():
        return " ".join(literal.split())
    family, given = person.get("family"), person.get("given")
    if isinstance(family, str) and isinstance(given, str) and not any(
            person.get(k) for k in ("dropping-particle", "non-dropping-particle", "suffix")):
        han = han_name(family, given)
        if han:
            return han
    parts = [person.get(k) for k in ("given", "dropping-particle", "non-dropping-particle", "family")]
    text = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    suffix = person.get("suffix")
    if text and isinstance(suffix, str) and suffix.strip():
        text = f"{text} {suffix.strip()}" if person.get("comma-suffix") is not True else f"{text}, {suffix.strip()}"
    return " ".join(text.split())


# ---------------------------------------------------------------- dates

_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
_MONTHS.update({name[:3]: number for number, name in enumerate(_MONTH_NAMES, start=1)})
_MONTHS["sept"] = 9
_ISO_LIKE = re.compile(r"^\s*(\d{4})(?:[-/.](\d{1,2})?(?:[-/.](\d{1,2})?)?)?(?=$|[/\sT])")
_M_Y = re.compile(r"^\s*(\d{1,2})[/.-](\d{4})\s*$")
_D_M_Y = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_NAMED = re.compile(r"(?:(\d{1,2})\s*\.?\s+)?([A-Za-z]{3,9})\.?\s+(?:(\d{1,2})(?:st|nd|rd|th)?\s*,?\s+)?(\d{4})\b")
_ANY_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")


@dataclass(frozen=True)
class DateParts:
    year: int | None = None
    iso: str | None = None  # yyyy-mm-dd or yyyy-mm, only when the month is known
    # a month or day was given but is impossible (2026-13, 2026-02-30) and was dropped: the reader keeps
    # the raw value in extra.date_raw (note_date) so it is not lost
    dropped: bool = field(default=False, compare=False)


def date_parts(year: Any, month: Any = None, day: Any = None) -> DateParts:
    """Validated parts -> DateParts; a month or day out of range is dropped (a day without a valid
    month too) and `dropped` is set, a year outside 1000..2200 gives nothing."""
    y, m, d = _int(year), _int(month), _int(day)
    if y is None or not 1000 <= y <= 2200:
        return DateParts()
    if m is None or not 1 <= m <= 12:
        return DateParts(y, dropped=m is not None or d is not None)
    if d is not None:
        try:
            return DateParts(y, _date(y, m, d).isoformat())
        except ValueError:
            return DateParts(y, f"{y:04d}-{m:02d}", dropped=True)
    return DateParts(y, f"{y:04d}-{m:02d}")


DATE_RAW = "date_raw"  # the extra key that keeps a date whose impossible month or day was dropped


def note_date(extra: dict[str, Any], when: DateParts, raw: Any) -> None:
    """Keep the date as the record wrote it in extra.date_raw when `when` dropped an impossible month or
    day (nothing stored is silently defaulted: the year and valid month are kept, the rest is not lost)."""
    if when.dropped and DATE_RAW not in extra:
        extra[DATE_RAW] = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)


def parse_date(text: Any) -> DateParts:
    """A date as reference managers write it: '2019', '2019-03-21', RIS '2019/03/21/' and
    '2019///', '3/2019', '21/03/2019' (day first only when unambiguous), 'March 21, 2019',
    '21 Mar 2019'; else the first plausible year in the text."""
    if isinstance(text, int) and not isinstance(text, bool):
        return date_parts(text)
    if not isinstance(text, str) or not text.strip():
        return DateParts()
    match = _ISO_LIKE.match(text)
    if match:
        return date_parts(*match.groups())
    match = _M_Y.match(text)
    if match:
        return date_parts(match.group(2), match.group(1))
    match = _D_M_Y.match(text)
    if match:
        first, second, year = (int(g) for g in match.groups())
        if first > 12 >= second:
            return date_parts(year, second, first)
        if second > 12 >= first:
            return date_parts(year, first, second)
        return date_parts(year)  # 03/04/2019: month and day cannot be told apart
    for match in _NAMED.finditer(text):
        month = _MONTHS.get(match.group(2).lower())
        if month:
            return date_parts(match.group(4), month, match.group(1) or match.group(3))
    match = _ANY_YEAR.search(text)
    return date_parts(match.group(1)) if match else DateParts()


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


# ---------------------------------------------------------------- small value helpers

_NO_ABSTRACT = {"abstract", "no abstract", "no abstract available", "n/a", "na", "none", "null", "-"}


def text_of(value: Any) -> str:
    """A string field's text (a list of strings, as Crossref writes titles: its first item)."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), "")
    return value.strip() if isinstance(value, str) else ""


# The rich-text markup CSL and Zotero allow in titles (<i>, <b>, <sup>, <sub>, <sc>, <span
# style="font-variant:small-caps;">, <span class="nocase">), and the entities a writer escapes < > & with.
_RICH_TAG = re.compile(r"</?(?:i|b|em|strong|sup|sub|sc|span)>|<span\s[^<>]*>", re.I)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});", re.I)


def rich_text(value: Any) -> str:
    """A CSL / Zotero title or container title as plain text: '<i>E. coli</i> &amp; H<sub>2</sub>O' ->
    'E. coli & H2O'. A '<' that opens no such tag ('n < m', 'a<b and c>d' stays as it is) is text."""
    text = text_of(value)
    if "<" not in text and "&" not in text:
        return text
    text = _RICH_TAG.sub("", text)
    return " ".join(_ENTITY.sub(lambda m: html.unescape(m.group(0)), text).split())


def abstract_of(value: Any) -> str:
    """The abstract's text; placeholders such as 'Abstract' or 'No abstract available' are no abstract."""
    text = text_of(value)
    return "" if text.lower().rstrip(".: ") in _NO_ABSTRACT else text


def split_list(value: Any, separators: str = ",;") -> list[str]:
    """'a; b, c' or ['a', 'b'] -> ['a', 'b', 'c'] (stripped, empties dropped)."""
    if isinstance(value, list):
        items: Iterable[Any] = value
    elif isinstance(value, str):
        items = re.split("[" + re.escape(separators) + "]", value)
    else:
        return []
    return [" ".join(item.split()) for item in items if isinstance(item, str) and item.strip()]


def first_url(*values: Any) -> str | None:
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and re.match(r"^(?:https?:)?//\S+$", item.strip(), re.I):
                return item.strip()
    return None


# ---------------------------------------------------------------- JSON records with their lines

def max_json_mb() -> float:
    """The size limit of one JSON document in MiB: PAPERLENS_MAX_JSON_MB, else 256."""
    try:
        megabytes = float(os.environ.get("PAPERLENS_MAX_JSON_MB", DEFAULT_MAX_JSON_MB))
    except ValueError:
        return DEFAULT_MAX_JSON_MB
    return megabytes if megabytes > 0 else DEFAULT_MAX_JSON_MB


def max_json_chars() -> int:
    return int(max_json_mb() * 1024 * 1024)


@dataclass
class JsonRecord:
    """One record of a JSON document: the decoded value, its line, and its raw text's span."""

    value: Any
    line: int
    start: int
    end: int
    index: int  # position in its list (0-based); 0 for a lone object


class _LineCounter:
    """Line of a position, for positions visited in increasing order (no rescans from the start)."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        if pos >= self.pos:
            self.line += self.text.count("\n", self.pos, pos)
        else:  # not expected; stay correct anyway
            self.line = self.text.count("\n", 0, pos) + 1
        self.pos = pos
        return self.line


_WS = re.compile(r"[ \t\n\r]*")


def read_json_text(ctx: ReadContext) -> str | Rejected:
    """The whole file as text, or a Rejected when it is over the size limit."""
    limit = max_json_chars()
    try:
        size = os.path.getsize(ctx.path)
    except OSError:
        size = 0
    compressed = ctx.path.endswith((".gz", ".bz2", ".xz"))
    too_big = Rejected(ctx.path, 1, f"JSON file is larger than {max_json_mb():g} MiB, the limit for one "
                                    "document; split it, or raise PAPERLENS_MAX_JSON_MB")
    if not compressed and size > limit:
        return too_big
    with open_text(ctx.path) as handle:
        text = handle.read(limit + 1)
    if len(text) > limit:
        return too_big
    return text


def iter_json_records(ctx: ReadContext, text: str, wrappers: tuple[str, ...]) -> Iterator[JsonRecord | Rejected]:
    """Records of a JSON document: the items of a top-level list, of a list under one of the
    `wrappers` keys of a top-level object ({"data": [...]}, {"items": [...]}), or the object itself
    when it has no such key. Items are decoded one at a time: a broken one is reported at its line, the
    ones before are kept. JSON Lines (one object per line) are read line by line, a broken line costing
    only itself; other top-level values one after another are read in turn."""
    lines = _LineCounter(text)
    decoder = json.JSONDecoder()
    pos = _WS.match(text, 0).end()
    end_of_first = text.find("\n", pos)
    first = text[pos:end_of_first if end_of_first >= 0 else len(text)].rstrip()
    if first.startswith("{") and first.endswith("}") and text[pos:].strip().count("\n"):
        yield from _json_lines(ctx, text, wrappers)  # one value per line: a broken line costs only itself
        return
    while pos < len(text):
        char = text[pos]
        if char == "[":
            pos = yield from _array(ctx, text, pos + 1, decoder, lines)
        elif char == "{":
            pos = yield from _object(ctx, text, pos, decoder, lines, wrappers)
        else:
            yield Rejected(ctx.path, lines.at(pos), f"expected a JSON object or list, found {text[pos:pos + 20]!r}")
            return
        if pos is None:
            return
        pos = _WS.match(text, pos).end()


def _json_lines(ctx: ReadContext, text: str, wrappers: tuple[str, ...]) -> Iterator[JsonRecord | Rejected]:
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        begin, start = start, start + len(line) + 1
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Rejected(ctx.path, number, f"invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        except RecursionError:
            yield Rejected(ctx.path, number, "JSON nested too deeply to read")
            continue
        if isinstance(value, dict):
            key = next((k for k in wrappers if isinstance(value.get(k), list)), None)
            items = value[key] if key else [value]
        else:
            items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            yield JsonRecord(item, number, begin, begin + len(line), index)


def _decode(ctx: ReadContext, text: str, pos: int, decoder: json.JSONDecoder,
            lines: _LineCounter) -> tuple[Any, int] | Rejected:
    try:
        return decoder.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        return Rejected(ctx.path, exc.lineno, f"invalid JSON ({exc.msg} at column {exc.colno}); "
                                              "the rest of the file is skipped")
    except RecursionError:
        return Rejected(ctx.path, lines.at(pos), "JSON nested too deeply to read; the rest of the file is skipped")


def _array(ctx, text, pos, decoder, lines) -> Iterator[JsonRecord | Rejected]:
    """Items of the list whose '[' is just before `pos`; returns the position after its ']' (None: stop)."""
    index = 0
    pos = _WS.match(text, pos).end()
    if text.startswith("]", pos):
        return pos + 1
    while True:
        if pos >= len(text):
            yield Rejected(ctx.path, lines.at(pos), "JSON ends before the list is closed (file cut short?)")
            return None
        line = lines.at(pos)
        decoded = _decode(ctx, text, pos, decoder, lines)
        if isinstance(decoded, Rejected):
            yield decoded
            return None
        value, end = decoded
        yield JsonRecord(value, line, pos, end, index)
        index += 1
        pos = _WS.match(text, end).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
        elif text.startswith("]", pos):
            return pos + 1
        else:
            yield Rejected(ctx.path, lines.at(pos), "invalid JSON: expected ',' or ']' after an item; "
                                                    "the rest of the file is skipped")
            return None


def _object(ctx, text, pos, decoder, lines, wrappers) -> Iterator[JsonRecord | Rejected]:
    """A top-level object: the items of its first wrapper list, else the object as one record."""
    start, line = pos, lines.at(pos)
    meta: dict[str, Any] = {}
    wrapped = False
    pos = _WS.match(text, pos + 1).end()
    if text.startswith("}", pos):
        yield JsonRecord({}, line, start, pos + 1, 0)
        return pos + 1
    while True:
        key = _decode(ctx, text, pos, decoder, lines) if text.startswith('"', pos) else None
        if key is None or isinstance(key, Rejected):
            yield key or Rejected(ctx.path, lines.at(pos), "invalid JSON: expected a key; the rest of the file is skipped")
            return None
        name, pos = key
        pos = _WS.match(text, pos).end()
        if not text.startswith(":", pos):
            yield Rejected(ctx.path, lines.at(pos), "invalid JSON: expected ':'; the rest of the file is skipped")
            return None
        pos = _WS.match(text, pos + 1).end()
        if name in wrappers and not wrapped and text.startswith("[", pos):
            wrapped = True
            pos = yield from _array(ctx, text, pos + 1, decoder, lines)
            if pos is None:
                return None
        else:
            decoded = _decode(ctx, text, pos, decoder, lines)
            if isinstance(decoded, Rejected):
                yield decoded
                return None
            meta[name], pos = decoded
        pos = _WS.match(text, pos).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
        elif text.startswith("}", pos):
            pos += 1
            break
        else:
            yield Rejected(ctx.path, lines.at(pos), "invalid JSON: expected ',' or '}'; the rest of the file is skipped")
            return None
    if not wrapped:
        yield JsonRecord(meta, line, start, pos, 0)
    return pos


def bad_bytes_in(text: str, record: JsonRecord) -> bool:
    """Whether the record's raw text holds bytes that were not UTF-8."""
    return has_bad_bytes(text[record.start:record.end])


def finish_or_reject(paper: Paper, ctx: ReadContext, source: str, line: int, source_id: str | None,
                     label: str) -> Paper | Rejected:
    """finish_paper, or a Rejected when cleaning left neither title nor abstract (a title of only LaTeX
    markup, say): such a record must not be stored under an id made of nothing."""
    finished = finish_paper(paper, ctx, source, line, source_id=source_id)
    if isinstance(finished, Rejected) and finished.message == EMPTY_ONCE_CLEANED:
        return Rejected(ctx.path, line, f"{label}: {EMPTY_ONCE_CLEANED}")
    return finished  # a paper, or a field past its size limit


class JsonItemsSource(Source):
    """A source whose file is one JSON document of item objects (or JSON lines of them): the file is read
    whole (read_json_text), its records walked (iter_json_records with `wrappers`), and each record that
    is an object of valid UTF-8 goes to `paper` (ValueError, TypeError or AttributeError from it become a
    Rejected naming the item). Subclasses give `expected` (what "expected a ..., found list" names),
    `wrappers`, and `paper`; `records` and `check` may be overridden."""

    wrappers: ClassVar[tuple[str, ...]] = ()
    expected: ClassVar[str] = "item object"

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        text = read_json_text(ctx)
        if isinstance(text, Rejected):
            yield text
            return
        for record in self.records(ctx, text):
            if isinstance(record, Rejected):
                yield record
                continue
            yield self._item(ctx, text, record)

    def records(self, ctx: ReadContext, text: str) -> Iterator[JsonRecord | Rejected]:
        return iter_json_records(ctx, text, wrappers=self.wrappers)

    def check(self, item: Any) -> str | None:
        """Why a record's value is not an item (None: it is one)."""
        return None if isinstance(item, dict) else f"expected a {self.expected}, found {type(item).__name__}"

    def paper(self, ctx: ReadContext, item: dict[str, Any], line: int) -> Paper | Rejected:
        """The item (an object of valid text, found at `line`) as a paper, or why not: subclasses call
        `self.converted` with their converter."""
        raise NotImplementedError

    def converted(self, ctx: ReadContext, line: int, label: str, convert: Callable[[], Paper],
                  source_id: str | Callable[[Paper], str | None] | None) -> Paper | Rejected:
        """`convert()` finished (finish_or_reject), or the Rejected of its error, named by `label`;
        `source_id` may be a function of the converted paper."""
        try:
            paper = convert()
        except (ValueError, TypeError, AttributeError) as exc:
            return Rejected(ctx.path, line, f"{label}: {exc}")
        sid = source_id(paper) if callable(source_id) else source_id
        return finish_or_reject(paper, ctx, self.name, line, sid, label)

    def _item(self, ctx: ReadContext, text: str, record: JsonRecord) -> Paper | Rejected:
        item = record.value
        problem = self.check(item)
        if problem is not None:
            return Rejected(ctx.path, record.line, problem)
        if bad_bytes_in(text, record):
            return Rejected(ctx.path, record.line, BAD_BYTES)
        return self.paper(ctx, item, record.line)


def head_start(head: str) -> str:
    """The first character of the document, past a BOM and white space."""
    return head.lstrip("\ufeff \t\r\n")[:1]
