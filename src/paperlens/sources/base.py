"""What every source adapter shares: the record it yields, the rejection it reports, file reading."""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import itertools
import json
import lzma
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from paperlens.core.clean import detect_language, find_code_url, latex_to_text, repo_name
from paperlens.core.ids import arxiv_of_doi, normalize_arxiv_id, normalize_doi, paper_id
from paperlens.core.models import SUMMARY_FIELDS, Paper, SourceRef, Summary
from paperlens.core.words import split_glued


@dataclass(frozen=True)
class Rejected:
    """A record that could not be read, with the file and line it started on."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class ReadContext:
    path: str
    as_of: date = field(default_factory=date.today)
    # (index, count, lines per block): read only the lines of every count-th block, starting at block
    # index. Set only for sources with `shardable`, so several processes can share one big file.
    shard: tuple[int, int, int] | None = None
    # The field-size limits (PAPERLENS_MAX_*_CHARS, PAPERLENS_MAX_AUTHORS), read once per file.
    field_limits: tuple[int, int, int, int] = field(default_factory=lambda: field_limits())
    json_depth: int = field(default_factory=lambda: limit("PAPERLENS_MAX_JSON_DEPTH"))

    def skips(self, line: int) -> bool:
        """Whether line `line` (1-based) belongs to another shard."""
        if self.shard is None:
            return False
        index, count, block = self.shard
        return (line - 1) // block % count != index


class SourceError(Exception):
    """The whole file cannot be read (e.g. unknown format); names the file and line."""

    def __init__(self, path: str, line: int, message: str):
        # line 0: the problem is the file itself (missing, a directory), not a place in it
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path, self.line, self.message = path, line, message


# ------------------------------------------------------------------------------------ limits
# What one file may hold before its records (or the rest of it) are rejected rather than read; each can be
# changed with the environment variable of the same name (docs/reliability.md, "Ingest limits").
LIMITS_DEFAULTS = {
    "PAPERLENS_MAX_LINE_BYTES": 64 * 2**20,  # one line of a line-based format (characters, about bytes)
    "PAPERLENS_MAX_DOCUMENT_BYTES": 256 * 2**20,  # a format read as one document (Atom, OpenReview JSON)
    "PAPERLENS_MAX_DECOMPRESSED_BYTES": 64 * 2**30,  # what a .gz/.bz2/.xz file may expand to
    "PAPERLENS_MAX_JSON_DEPTH": 100,  # nesting of one JSON record
    "PAPERLENS_MAX_XML_DEPTH": 100,  # nesting of elements in an XML document (Atom: about 5 in practice)
    "PAPERLENS_MAX_TITLE_CHARS": 2_000,
    "PAPERLENS_MAX_ABSTRACT_CHARS": 100_000,
    "PAPERLENS_MAX_AUTHORS": 10_000,  # large collaborations list a few thousand
    "PAPERLENS_MAX_FIELD_CHARS": 100_000,  # any other text field: an author name, a keyword, venue, DOI, ...
}


def limit(name: str) -> int:
    """The limit `name` (a key of LIMITS_DEFAULTS): its environment variable when set to a positive
    integer, else the default."""
    value = os.environ.get(name, "").strip().replace("_", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return LIMITS_DEFAULTS[name]


class InputLimitError(SourceError):
    """Reading the file went past one of the limits; whatever was read before it stands."""


class _CountingReader(io.RawIOBase):
    """A decompressing stream that stops with InputLimitError once it has given `limit` bytes."""

    def __init__(self, raw, path: str, limit_bytes: int):
        self._raw, self._path, self._left, self._limit = raw, path, limit_bytes, limit_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer)
        if count:
            self._left -= count
            if self._left < 0:
                raise InputLimitError(self._path, 0, f"the file expands to more than {self._limit:,} bytes "
                                                     "(PAPERLENS_MAX_DECOMPRESSED_BYTES); the rest is skipped")
        return count

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
         (b"\xfe\xff", "utf-16"))


def sniff_encoding(head: bytes) -> str:
    """'utf-8-sig', or the UTF-16/32 codec of a file that starts with its byte order mark or, without one,
    has the NUL bytes of mostly-ASCII UTF-16/32 text."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    sample = head[:4096]
    if len(sample) >= 8 and sample.count(0) * 3 >= len(sample):
        quads = len(sample) // 4 * 4
        if sample[1:quads:4].count(0) + sample[2:quads:4].count(0) >= quads // 2 * 0.9:
            return "utf-32-le" if sample[3:quads:4].count(0) >= quads // 4 * 0.9 else "utf-32-be"
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd >= len(sample) // 2 * 0.6 and even < odd // 4:
            return "utf-16-le"
        if even >= len(sample) // 2 * 0.6 and odd < even // 4:
            return "utf-16-be"
    return "utf-8-sig"


def _undecodable(error: UnicodeError) -> tuple[str, int]:
    """Undecodable UTF-16/32 bytes become U+DCFF each: has_bad_bytes finds them, so their records are rejected."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "\udcff" * (error.end - error.start), error.end


codecs.register_error("paperlens-undecodable", _undecodable)


def open_text(path: str | Path) -> io.TextIOBase:
    """Text stream of a possibly compressed file. Undecodable bytes survive as surrogates so the
    reader can reject just the records that hold them, with their line numbers. UTF-16 and UTF-32 files
    (with a byte order mark, or recognisable by their NUL bytes) are decoded as such. A compressed file
    stops with InputLimitError past PAPERLENS_MAX_DECOMPRESSED_BYTES."""
    path = Path(path)
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(path.suffix, None)
    if opener:
        raw = io.BufferedReader(_CountingReader(opener(path, "rb"), str(path),
                                                limit("PAPERLENS_MAX_DECOMPRESSED_BYTES")), buffer_size=2**20)
    else:
        raw = open(path, "rb")  # noqa: SIM115
    try:
        head = raw.peek(4096)[:4096]
        encoding = sniff_encoding(head)
    except BaseException:
        raw.close()
        raise
    # Lines end at '\n' only (a stray '\r' is not a new line), so line numbers match `wc -l` and editors;
    # a file whose lines end at '\r' alone (classic Mac OS, some EndNote and RIS exports) has none in its
    # head, and its lines end where an editor shows them, at each '\r'.
    newline = None if b"\r" in head and b"\n" not in head else "\n"
    # surrogateescape cannot stand for an undecodable byte below 0x80, which UTF-16/32 can have
    errors = "surrogateescape" if encoding == "utf-8-sig" else "paperlens-undecodable"
    text = io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline=newline)
    text._CHUNK_SIZE = 2**16  # fewer, larger reads: bounded readline() (numbered_lines) is then as fast as iterating
    return text


def numbered_lines(handle: io.TextIOBase, path: str) -> Iterator[tuple[int, str | Rejected]]:
    """(line number, line) of a text stream, in memory bounded by PAPERLENS_MAX_LINE_BYTES: a longer line
    comes as a Rejected in its place (and is skipped in bounded pieces); a file that expands past its
    limit ends with a Rejected on the line being read."""
    max_chars = limit("PAPERLENS_MAX_LINE_BYTES")
    readline = handle.readline
    number = 0
    try:
        while True:
            line = readline(max_chars + 1)
            if not line:
                return
            number += 1
            if len(line) > max_chars and line[-1] != "\n":
                while line and line[-1] != "\n":  # the rest of the line, a piece at a time
                    line = readline(2**20)
                yield number, Rejected(path, number, f"line is longer than {max_chars:,} characters "
                                                     "(PAPERLENS_MAX_LINE_BYTES); it is skipped")
                continue
            yield number, line
    except InputLimitError as exc:
        yield number + 1, Rejected(path, number + 1, exc.message)


def read_document(handle: io.TextIOBase, path: str) -> str:
    """The whole text of a format read as one document; InputLimitError past PAPERLENS_MAX_DOCUMENT_BYTES."""
    max_chars = limit("PAPERLENS_MAX_DOCUMENT_BYTES")
    text = handle.read(max_chars + 1)
    if len(text) > max_chars:
        raise InputLimitError(path, 1, f"the file is longer than {max_chars:,} characters "
                                       "(PAPERLENS_MAX_DOCUMENT_BYTES) and is read as one document; "
                                       "it is skipped (split it, or raise the limit)")
    return text


_BAD_BYTE = re.compile("[\udc80-\udcff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_bad_bytes(text: str) -> bool:
    return not text.isascii() and _BAD_BYTE.search(text) is not None


def has_surrogates(text: str) -> bool:
    """Undecodable bytes, or a lone surrogate from a JSON escape such as \\ud800: not valid Unicode text."""
    return not text.isascii() and _SURROGATE.search(text) is not None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def lone_surrogate_in(line: str, data: Any) -> bool:
    """Whether the JSON `data` decoded from `line` holds a lone surrogate (from an escape such as \\ud800,
    which json.loads accepts): such text cannot be stored or encoded. Only looked for in a line that has a
    surrogate escape at all, so it costs nothing on ordinary lines."""
    if "\\u" not in line or _SURROGATE_ESCAPE.search(line) is None:
        return False
    return has_surrogates(json.dumps(data, ensure_ascii=False))


_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth_error(text: str, max_depth: int | None = None) -> str | None:
    """Why `text` (one JSON value) is nested too deeply to be read, or None. Cheap when it is not: a text
    with fewer brackets than the limit cannot be too deep; else the brackets are peeled off from the
    inside a level at a time (a few passes for a real record), and only a text that survives the limit's
    worth of passes is measured exactly, with strings left out."""
    if max_depth is None:
        max_depth = limit("PAPERLENS_MAX_JSON_DEPTH")
    if text.count("[") + text.count("{") <= max_depth:
        return None
    brackets = "".join(re.findall(r"[\[\]{}]", text)) if not text.isascii() else text.translate(_KEEP_BRACKETS)
    for _ in range(max_depth):
        peeled = brackets.replace("[]", "").replace("{}", "")
        if len(peeled) == len(brackets):  # nothing pairs up any more: what is left is as deep as its openings
            if peeled.count("[") + peeled.count("{") <= max_depth:
                return None
            break
        brackets = peeled
        if not brackets:
            return None
    # Maybe deep; brackets inside strings may have been counted: measure without them.
    outside = _STRINGS.sub("", text)
    depth = max(itertools.accumulate(_DEPTH_STEP.get(c, 0) for c in outside if c in _DEPTH_STEP), default=0)
    if depth <= max_depth:
        return None
    return f"JSON nested {depth} levels deep (the limit is {max_depth}, PAPERLENS_MAX_JSON_DEPTH)"


_KEEP_BRACKETS = {i: None for i in range(128) if chr(i) not in "[]{}"}


def read_head(path: str | Path, size: int = 8192) -> str:
    with open_text(path) as handle:
        return handle.read(size)


class Source:
    """A source adapter: reads one file format and yields Papers (or Rejected), never writes the DB."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # One record per line: read() honours ReadContext.shard, and every record names its line
    # (Rejected.line, or Paper.sources[0].line), so the shards can be put back in file order.
    shardable: ClassVar[bool] = False

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        return False

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        raise NotImplementedError


def field_limits() -> tuple[int, int, int, int]:
    return (limit("PAPERLENS_MAX_TITLE_CHARS"), limit("PAPERLENS_MAX_ABSTRACT_CHARS"), limit("PAPERLENS_MAX_AUTHORS"),
            limit("PAPERLENS_MAX_FIELD_CHARS"))


_SHORT_FIELDS = ("tldr", "venue", "doi", "org", "code_url", "openreview_id", "arxiv_id", "date")


def _long_extra(extra: dict, max_field: int) -> bool:
    for value in extra.values():
        if type(value) is str and len(value) > max_field:
            return True
    return False


def oversized_field(paper: Paper, limits: tuple[int, int, int, int], record_chars: int | None = None) -> str | None:
    """Why `paper` is too big to store (a field past its limit), or None. Only len() calls: cheap. The
    other fields (author names, keywords, venue, DOI, extra values) are looked at only when the record's
    text (`record_chars`, when the source knows it) is longer than PAPERLENS_MAX_FIELD_CHARS: none of its
    fields can be longer than the record."""
    max_title, max_abstract, max_authors, max_field = limits
    fields = paper.__dict__  # plain dict reads: this runs for every record
    authors, keywords = fields["authors"], fields["keywords"]
    if (len(fields["title"]) <= max_title and len(fields["abstract_raw"]) <= max_abstract
            and len(fields["abstract"]) <= max_abstract and len(authors) <= max_authors >= len(keywords)):
        if record_chars is not None and record_chars <= max_field:
            return None
        if ((not authors or max(map(len, authors)) <= max_field)
                and (not keywords or max(map(len, keywords)) <= max_field)
                and len(fields["tldr"] or "") + len(fields["venue"] or "") + len(fields["doi"] or "")
                + len(fields["org"] or "") + len(fields["code_url"] or "") + len(fields["openreview_id"] or "")
                + len(fields["arxiv_id"] or "") + len(fields["date"] or "") <= max_field
                and not _long_extra(fields["extra"], max_field)):
            return None
    checks = [("title", len(paper.title), max_title, "PAPERLENS_MAX_TITLE_CHARS"),
              ("abstract", max(len(paper.abstract_raw), len(paper.abstract)), max_abstract,
               "PAPERLENS_MAX_ABSTRACT_CHARS"),
              ("author list", len(authors), max_authors, "PAPERLENS_MAX_AUTHORS"),
              ("keyword list", len(keywords), max_authors, "PAPERLENS_MAX_AUTHORS"),
              ("an author name", max(map(len, authors), default=0), max_field, "PAPERLENS_MAX_FIELD_CHARS"),
              ("a keyword", max(map(len, keywords), default=0), max_field, "PAPERLENS_MAX_FIELD_CHARS")]
    for name in _SHORT_FIELDS:
        checks.append((name, len(getattr(paper, name) or ""), max_field, "PAPERLENS_MAX_FIELD_CHARS"))
    for name, value in paper.extra.items():
        if isinstance(value, str):
            checks.append((str(name)[:40], len(value), max_field, "PAPERLENS_MAX_FIELD_CHARS"))
    for name, size, most, variable in checks:
        if size > most:
            unit = "entries" if name.endswith("list") else "characters"
            return f"{name} has {size:,} {unit}, more than the limit of {most:,} ({variable}); the record is skipped"
    # the short fields together are over the limit, none alone: still far from a real record
    return f"the short fields together exceed {max_field:,} characters (PAPERLENS_MAX_FIELD_CHARS); the record is skipped"


EMPTY_ONCE_CLEANED = "title and abstract are empty once cleaned"


_LATEX_MARK = re.compile(r"[\\$]")


def _latex_free_summary(summary: Summary) -> Summary:
    changed = {name: latex_to_text(text) for name in SUMMARY_FIELDS
               if (text := getattr(summary, name)) and _LATEX_MARK.search(text)}
    return summary.model_copy(update=changed) if changed else summary


def finish_paper(paper: Paper, ctx: ReadContext, source: str, line: int | None,
                 source_id: str | None = None, record_chars: int | None = None) -> Paper | Rejected:
    """Fill what every source derives the same way: clean abstract, code link, language, ids. A record
    with a field past its size limit (oversized_field) is rejected instead, before any cleaning.
    `record_chars`: the length of the record's text, when known (it makes the size check cheaper)."""
    too_big = oversized_field(paper, ctx.field_limits, record_chars)
    if too_big is not None:
        return Rejected(ctx.path, line or 1, too_big)
    title = latex_to_text(paper.title) if paper.title else ""
    raw = paper.abstract_raw or paper.abstract
    code_url = paper.code_url or find_code_url(raw)
    abstract = latex_to_text(raw, placeholder=repo_name(code_url))
    if not title.strip() and not abstract.strip():  # blanks or markup only: the reader saw text, none is left
        return Rejected(ctx.path, line or 1, EMPTY_ONCE_CLEANED)
    language = paper.language
    if not language or language == "en":
        language = detect_language(abstract or title)
    doi = normalize_doi(paper.doi)
    # the DOI arXiv gives every paper names its arXiv id (Zotero and DataCite write only the DOI at times)
    arxiv_id = normalize_arxiv_id(paper.arxiv_id) or arxiv_of_doi(doi)
    values = {
        "title": title, "abstract_raw": raw, "code_url": code_url, "abstract": abstract, "language": language,
        "arxiv_id": arxiv_id, "doi": doi,
        "keywords": _dedupe(split_glued(k for k in paper.keywords if k and k.strip())),
        "authors": _dedupe([a.strip() for a in paper.authors if a and a.strip()]),
        "sources": [SourceRef(source=source, path=ctx.path, line=line, source_id=source_id)],
    }
    # A TL;DR or summary field a source wrote with LaTeX ("MAS$^2$", "$\\nabla$", "14.4\\%") reads as text, like the
    # title and abstract; text without a backslash or dollar sign is left exactly as given.
    if paper.tldr and _LATEX_MARK.search(paper.tldr):
        values["tldr"] = latex_to_text(paper.tldr)
    if paper.summary:
        values["summary"] = {lang: _latex_free_summary(summary) for lang, summary in paper.summary.items()}
    if paper.date and not paper.year:
        values["year"] = int(paper.date[:4])
    if not paper.id:
        # origin: only for a record with no title and no author at all (see paper_id)
        values["id"] = paper_id(arxiv_id, doi, paper.openreview_id, title, abstract, authors=values["authors"],
                                year=values.get("year", paper.year), venue=paper.venue,
                                origin=(source, ctx.path, line, source_id))
    # Every value already has its field's type; pydantic's per-attribute __setattr__ would cost more
    # than the rest of this function on a bulk snapshot.
    paper.__dict__.update(values)
    paper.__pydantic_fields_set__.update(values)
    return paper


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        key = item.lower()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def json_error_message(exc: ValueError) -> str:
    """A JSON decoder's error in a few words: json's (and orjson's) message and column, else the text before
    any ": line ..." position (a ValueError such as an integer of more than 4,300 digits)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    text = str(exc)
    return text.split(": line")[0] if ": line" in text else text


BAD_BYTES = "not valid UTF-8 text (is the file in another encoding?)"  # a record holding bytes that were not UTF-8
# a JSON record whose strings hold an escape json.loads accepts but no encoder can write (SQLite, pydantic)
LONE_SURROGATE = "a JSON string holds a lone surrogate escape (such as \\ud800): not valid Unicode text"


def json_lines(ctx: ReadContext, bad_bytes: str = BAD_BYTES,
               *, loads: Callable[[str], Any] = json.loads) -> Iterator[tuple[int, Any, str] | Rejected]:
    """(line number, decoded value, the line) for every non-empty line of a JSON Lines file, or a Rejected on
    its line: a line past the length limit, bytes that are not UTF-8 (`bad_bytes`), nesting past the depth
    limit, or invalid JSON. Lines of other shards (ctx.shard) are skipped first, rejections included, so
    each shard reports only its own lines. `loads` decodes a line (orjson's for big snapshots)."""
    with open_text(ctx.path) as handle:
        for number, line in numbered_lines(handle, ctx.path):
            if ctx.skips(number):
                continue
            if isinstance(line, Rejected):  # a line past PAPERLENS_MAX_LINE_BYTES
                yield line
                continue
            if not line.strip():
                continue
            if has_bad_bytes(line):
                yield Rejected(ctx.path, number, bad_bytes)
                continue
            too_deep = json_depth_error(line, ctx.json_depth)
            if too_deep:
                yield Rejected(ctx.path, number, too_deep)
                continue
            try:
                yield number, loads(line), line
            except ValueError as exc:  # json's and orjson's JSONDecodeError are ValueErrors
                yield Rejected(ctx.path, number, f"invalid JSON ({json_error_message(exc)})")
            except RecursionError:  # a safety net: the depth check comes first
                yield Rejected(ctx.path, number, "JSON nested too deeply to read")


def json_objects(ctx: ReadContext, bad_bytes: str = BAD_BYTES,
                 *, loads: Callable[[str], Any] = json.loads,
                 surrogates: bool = True) -> Iterator[tuple[int, dict, str] | Rejected]:
    """json_lines' records that are JSON objects, as (line number, object, the line); a line holding another value
    is rejected, and (with `surrogates`) one whose strings hold a lone surrogate escape."""
    for item in json_lines(ctx, bad_bytes, loads=loads):
        if isinstance(item, Rejected):
            yield item
            continue
        number, data, line = item
        if not isinstance(data, dict):
            yield Rejected(ctx.path, number, "expected a JSON object")
        elif surrogates and lone_surrogate_in(line, data):
            yield Rejected(ctx.path, number, LONE_SURROGATE)
        else:
            yield number, data, line
