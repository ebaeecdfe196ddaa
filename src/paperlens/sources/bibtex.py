"""BibTeX and biblatex (`bibtex`), parsed with bibtexparser 2.

The file is read as a stream and cut into chunks of about 1 MiB at entry starts (`@` at the start of a
line, outside any braces); each chunk is parsed with bibtexparser and its line numbers are shifted back to the file's, so
memory stays bounded whatever the file's size. One entry longer than PAPERLENS_MAX_BIB_ENTRY_BYTES
(16 MiB by default) is rejected with its line and skipped. `@string` macros (and the month macros
jan..dec) apply to every later entry, `#` concatenations are joined, `crossref` is resolved
(the parent's fields fill those the child lacks; its title becomes the child's booktitle).

Names are split with bibtexparser's name parser ("Last, First", "First von Last", "{Corporate Name}");
"and others" / "et al." mark the list as truncated. LaTeX is decoded by clean.latex_to_text (pylatexenc's
tables). biblatex fields are read: `date` (full date), `journaltitle`, `eprinttype`/`eprintclass`,
`maintitle`, `institution`; `urldate` is not the paper's date. DOIs come from `doi` in any resolver form
and from a DOI `url`; arXiv ids from `eprint`, `url`, `note`, `journal` and `howpublished`.
Our own export writes `x-paperlens-id`, which is kept, so an exported bibliography reads back under the
same ids.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares.middleware import LibraryMiddleware
from bibtexparser.middlewares.names import parse_single_name_into_parts
from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock, String

from paperlens.core.clean import CODE_HOSTS, latex_to_text
from paperlens.core.envvars import env_int
from paperlens.core.ids import normalize_arxiv_id, normalize_doi, openreview_id_from
from paperlens.core.models import Paper
from paperlens.sources.base import (
    BAD_BYTES,
    ReadContext,
    Rejected,
    Source,
    finish_paper,
    has_bad_bytes,
    open_text,
)
from paperlens.sources.refcommon import DateParts, date_parts, han_name, note_date

_ENTRY_START = re.compile(r"(?m)^[ \t]*@[A-Za-z]+[ \t]*[{(]")
_ENTRY_LINE = re.compile(r"[ \t]*@")
_YEAR = re.compile(r"(1[5-9]|20)\d{2}")
_DATE = re.compile(r"^\s*((?:1[5-9]|20)\d{2})(?:-(\d{2})(?:-(\d{2}))?)?")
_NON_ENTRY = {"string", "preamble", "comment"}
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
# BibTeX's predefined month macros: jan -> "January"
_MONTH_MACROS = {name[:3]: name.capitalize() for name in _MONTHS}
_TRUNCATION = {"others", "et al.", "et al", "et. al.", "etal", "et al.,"}
_AND = re.compile(r"and(?= |$)", re.I)  # a word of a whitespace-collapsed name list
_ET_AL_SUFFIX = re.compile(r"\s*,?\s+et\.?\s*al\.?$", re.I)
# Bare DOIs: '10.' + registrant + '/' + suffix; any resolver host or 'doi:' before it is dropped.
# Read from identifier()'s text, where markup braces are gone: a brace left is the DOI's own (\{, \textbraceleft{}).
_DOI = re.compile(r"10\.\d{4,9}/[^\s\"]+")  # SICI DOIs hold < and >
_DOI_URL = re.compile(r"^\s*(?:https?://(?:[\w-]+\.)*doi(?:\.[\w-]+)+/|doi:)", re.I)
_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7}"
_ARXIV_TEXT = re.compile(
    r"(?:arxiv\s*(?:e-?print|preprint)?s?\s*(?:arxiv)?\s*[:/]?\s*(?:abs/)?|arxiv\.org/(?:abs|pdf)/|"
    r"corr\s*,?\s*(?:vol(?:ume)?\.?\s*)?abs/)\s*(" + _ARXIV_NEW + "|" + _ARXIV_OLD + ")", re.I)
_ARXIV_BARE = re.compile(r"^\s*(?:arxiv:)?(" + _ARXIV_NEW + "|" + _ARXIV_OLD + r")(?:v\d+)?\s*$", re.I)
_ID_UNESCAPE = re.compile(r"\\([_%&#$~])")
_ID_COMMAND = re.compile(r"\\(textbraceleft|textbraceright|textbackslash)(?![A-Za-z])(?:\{\})?")
_ID_HELD = {"textbraceleft": "\ue000", "textbraceright": "\ue001", "textbackslash": "\ue002"}
_ID_RELEASE = str.maketrans({"\ue000": "{", "\ue001": "}", "\ue002": "\\"})
# Fields a crossref child never takes from its parent: they identify the parent, not the child.
_NOT_INHERITED = {"\0resolved", "title", "subtitle", "doi", "url", "eprint", "eprinttype", "eprintclass", "archiveprefix",
                  "primaryclass", "abstract", "keywords", "x-paperlens-id", "crossref", "xref", "ids", "note",
                  "urldate", "file", "pages", "howpublished"}
_PARENT_TYPES = {"proceedings", "book", "mvbook", "collection", "mvcollection", "mvproceedings", "reference",
                 "mvreference", "periodical", "bookinbook"}
_CHUNK_CHARS = 1 << 20
_MAX_DEFERRED = 10_000
# The splitter logs each broken block with 0-based lines; we report them ourselves as Rejected.
logging.getLogger("bibtexparser.splitter").setLevel(logging.ERROR)


def max_entry_bytes() -> int:
    """PAPERLENS_MAX_BIB_ENTRY_BYTES: the longest one entry may be (default 16 MiB, at least 1 KiB)."""
    return env_int("PAPERLENS_MAX_BIB_ENTRY_BYTES", 16 << 20, minimum=1024)


class _Interpolate(LibraryMiddleware):
    """@string macros (kept across chunks), month macros and `#` concatenation, then the enclosing
    braces or quotes removed: the value as BibTeX means it."""

    def __init__(self, strings: dict[str, str]):
        super().__init__(allow_inplace_modification=True)
        self.strings = strings

    @classmethod
    def metadata_key(cls) -> str:
        return "paperlens-interpolate"

    def transform(self, library: Library) -> Library:
        for block in library.blocks:
            if isinstance(block, String):
                self.strings[block.key.lower()] = block.value = resolve_value(block.value, self.strings)
            elif isinstance(block, Entry):
                for field in block.fields:
                    if isinstance(field.value, str):
                        field.value = resolve_value(field.value, self.strings)
        return library


def resolve_value(raw: str, strings: dict[str, str]) -> str:
    """'{A} # name # "b"' -> 'A' + strings[name] + 'b'; a lone macro is looked up; jan -> January."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(raw):
        if ch == "\\":
            continue
        if ch == "{" and (i == 0 or raw[i - 1] != "\\"):
            depth += 1
        elif ch == "}" and (i == 0 or raw[i - 1] != "\\"):
            depth -= 1
        elif ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == "#" and depth == 0 and not quoted:
            parts.append(raw[start:i])
            start = i + 1
    parts.append(raw[start:])
    out = []
    for part in parts:
        part = part.strip()
        if len(part) >= 2 and ((part[0] == "{" and part[-1] == "}") or (part[0] == '"' and part[-1] == '"')):
            out.append(part[1:-1])
        elif part.isdigit() or not part:
            out.append(part)
        else:
            key = part.lower()
            out.append(strings.get(key, _MONTH_MACROS.get(key, part)))
    return "".join(out)


class BibtexSource(Source):
    name = "bibtex"
    description = "BibTeX / biblatex bibliography (.bib)"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        if head.lstrip("\ufeff \t\r\n")[:1] in ("{", "[", "<"):
            return False
        return bool(_ENTRY_START.search(head))

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        strings: dict[str, str] = {}
        parents: dict[str, dict[str, str]] = {}  # crossref targets seen so far (proceedings, books)
        deferred: list[tuple[Entry, int, dict[str, str]]] = []  # children whose parent comes later
        keys: set[str] = set()
        with open_text(ctx.path) as handle:
            for item in _chunks(handle, ctx.path, max_entry_bytes()):
                if isinstance(item, Rejected):
                    yield item
                    continue
                first_line, text = item
                try:
                    library = bibtexparser.parse_string(text, parse_stack=[_Interpolate(strings)])
                except Exception as exc:  # the parser itself failed on the whole chunk
                    yield Rejected(ctx.path, first_line, f"cannot parse BibTeX ({type(exc).__name__}: {exc})")
                    continue
                entries: list[tuple[Entry, int, dict[str, str]]] = []
                for block in library.blocks:
                    line = (block.start_line or 0) + first_line
                    if isinstance(block, DuplicateBlockKeyBlock):
                        yield Rejected(ctx.path, line, f"duplicate entry key {block.key!r}; the first one is kept")
                    elif isinstance(block, ParsingFailedBlock):
                        yield Rejected(ctx.path, line, f"broken BibTeX entry: {_reason(block)}")
                    elif isinstance(block, Entry) and block.entry_type.lower() not in _NON_ENTRY:
                        if block.key in keys:
                            yield Rejected(ctx.path, line, f"duplicate entry key {block.key!r}; the first one is kept")
                            continue
                        keys.add(block.key)
                        fields = {f.key.lower(): f.value for f in block.fields if isinstance(f.value, str)}
                        entries.append((block, line, fields))
                local: dict[str, dict[str, str]] = {}
                for entry, _, fields in entries:
                    for alias in _aliases(entry, fields):
                        local[alias] = fields
                        if entry.entry_type.lower() in _PARENT_TYPES or "crossref" in fields:
                            parents[alias] = fields
                for entry, line, fields in entries:
                    if fields.get("crossref", "").strip():
                        lookup = {**parents, **local}
                        if not _resolve_crossref(fields, lookup) and len(deferred) < _MAX_DEFERRED:
                            deferred.append((entry, line, fields))
                            continue
                    yield self._entry(ctx, entry, line, fields)
                # a parent of an earlier child may have come in this chunk
                still = []
                for entry, line, fields in deferred:
                    if _resolve_crossref(fields, parents):
                        yield self._entry(ctx, entry, line, fields)
                    else:
                        still.append((entry, line, fields))
                deferred = still
        for entry, line, fields in deferred:  # parent never found: read as it is
            yield self._entry(ctx, entry, line, fields)

    def _entry(self, ctx: ReadContext, entry: Entry, line: int, fields: dict[str, str]) -> Paper | Rejected:
        if has_bad_bytes(entry.raw or "") or any(has_bad_bytes(v) for v in fields.values()):
            return Rejected(ctx.path, line, BAD_BYTES)
        get = _getter(fields)
        title, abstract = get("title"), get("abstract")
        if not title and not abstract:
            return Rejected(ctx.path, line, f"entry {entry.key!r} has neither title nor abstract")
        authors, truncated = split_authors(fields.get("author", ""))
        url = identifier(fields.get("url"))
        arxiv_id = find_arxiv_id(fields)
        doi = find_doi(fields)
        openreview = openreview_id_from(url) if "openreview.net" in url else None
        when, when_raw = entry_date_parts(fields)
        date, year = when.iso, when.year
        keywords = split_keywords(fields.get("keywords", ""))
        kind = entry.entry_type.lower()
        extra: dict[str, Any] = {}
        if not fields.get("x-paperlens-id"):  # our own export: the key and type were made up by us
            extra = {"bibtex_key": entry.key, "bibtex_type": kind}
        is_doi_url = bool(_DOI_URL.match(url)) and doi is not None
        if url and not CODE_HOSTS.match(url) and not arxiv_id and not openreview and not is_doi_url:
            extra["url"] = url
        note_date(extra, when, when_raw)
        category = identifier(fields.get("primaryclass") or fields.get("eprintclass"))
        paper = Paper(
            id=identifier(fields.get("x-paperlens-id")), title=title, authors=authors, authors_truncated=truncated,
            date=date, year=year, venue=entry_venue(get, kind) or None,
            abstract_raw=_abstract(fields.get("abstract")), keywords=keywords,
            code_url=url if CODE_HOSTS.match(url) else (identifier(fields.get("x-paperlens-code")) or None),
            doi=doi, arxiv_id=arxiv_id, openreview_id=openreview,
            categories=([category] if category else []) + [
                c for c in identifier(fields.get("x-paperlens-categories")).split(",")
                if c and (category or not arxiv_id)],  # without an eprint they are all there
            extra=extra,
        )
        return finish_paper(paper, ctx, self.name, line, source_id=entry.key)


def _chunks(handle, path: str, limit: int) -> Iterator[tuple[int, str] | Rejected]:
    """(first line number, text) of about _CHUNK_CHARS each, cut where a line starts with '@'; an entry
    longer than `limit` is rejected with its line and skipped without being held."""
    buf: list[str] = []
    size, first, number = 0, 1, 0  # chars in buf, line number of buf[0], lines finished so far
    entry_line, entry_index, entry_size = 1, 0, 0  # the current entry: its line, its index in buf, its size
    skipping, at_line_start = False, True
    depth = 0  # braces open at this point: an '@' inside a value (an abstract's '@user') starts nothing
    while piece := handle.readline(limit + 1):  # a line longer than the limit comes in pieces
        line_no = number + 1
        starts_entry = at_line_start and (depth <= 0 or skipping) and _ENTRY_LINE.match(piece) is not None
        at_line_start = piece.endswith("\n")
        if at_line_start:
            number += 1
        if "{" in piece or "}" in piece:
            depth += (piece.count("{") - piece.count("\\{")) - (piece.count("}") - piece.count("\\}"))
        if starts_entry:
            skipping = False
            depth = (piece.count("{") - piece.count("\\{")) - (piece.count("}") - piece.count("\\}"))
            if size >= _CHUNK_CHARS:
                yield first, "".join(buf)
                buf, size = [], 0
            entry_line, entry_index, entry_size = line_no, len(buf), 0
        if skipping:
            continue
        entry_size += len(piece)
        if entry_size > limit:
            yield Rejected(path, entry_line, f"entry longer than {limit} bytes (PAPERLENS_MAX_BIB_ENTRY_BYTES); "
                                             "skipped")
            del buf[entry_index:]
            if buf:  # what came before is whole: parse it now, so later lines keep their numbers
                yield first, "".join(buf)
            buf, size, skipping = [], 0, True
            continue
        if not buf:
            first = line_no
        buf.append(piece)
        size += len(piece)
    if buf:
        yield first, "".join(buf)


def _aliases(entry: Entry, fields: dict[str, str]) -> list[str]:
    """The entry's key and its biblatex `ids` aliases, lower-cased."""
    return [entry.key.lower(), *(a.strip().lower() for a in fields.get("ids", "").split(",") if a.strip())]


def _resolve_crossref(fields: dict[str, str], lookup: dict[str, dict[str, str]], depth: int = 0) -> bool:
    """Fill the fields the entry lacks from its `crossref` parent (cascading, cycles cut); the parent's
    title becomes the booktitle. False when the parent is not (yet) known."""
    parent_key = fields.get("crossref", "").strip().lower()
    if not parent_key or fields.get("\0resolved"):
        return True
    parent = lookup.get(parent_key)
    if parent is None:
        return False
    fields["\0resolved"] = "1"  # marks the entry so a cycle stops here
    if depth < 8 and parent.get("crossref") and not parent.get("\0resolved"):
        _resolve_crossref(parent, lookup, depth + 1)
    if "booktitle" not in fields and parent.get("title"):  # the parent's own title, not what it inherited
        fields["booktitle"] = parent["title"]
    for key, value in parent.items():
        if key not in _NOT_INHERITED and key not in fields:
            fields[key] = value
    return True


def _getter(fields: dict[str, str]):
    def get(name: str) -> str:
        value = fields.get(name)
        return bib_text(value) if isinstance(value, str) and value.strip() else ""

    return get


def bib_dashes(value: str) -> str:
    """'---' and '--' as the dashes BibTeX (TeX) makes of them. latex_to_text does this only in text that
    holds other LaTeX, which is right for plain-text sources; in BibTeX '1--10' always means 1–10."""
    return value.replace("---", "—").replace("--", "–") if "--" in value else value


def _unbraced(value: str) -> str:
    """A value without LaTeX commands as text: its case-protecting braces dropped, its dashes made."""
    return bib_dashes(value.replace("{", "").replace("}", ""))


def bib_text(value: str) -> str:
    """A BibTeX value as plain text: LaTeX decoded, dashes made, case-protecting braces dropped."""
    if "\\" not in value and "$" not in value:  # braces in math group a script: $x^{10}$ is not $x^10$
        return latex_to_text(_unbraced(value))
    return latex_to_text(value)


def identifier(value: Any) -> str:
    """A DOI, URL, id or category as written: braces and LaTeX escapes (\\_ \\%) dropped, no spaces;
    \\textbraceleft{} and the like (our export's escapes) come back as the characters."""
    if not isinstance(value, str):
        return ""
    value = _ID_UNESCAPE.sub(r"\1", value)
    if "\\{" in value or "\\}" in value:  # \{ and \} are the characters, not markup
        value = value.replace("\\{", "\ue000").replace("\\}", "\ue001")
    if "\\text" in value:
        value = _ID_COMMAND.sub(lambda m: _ID_HELD[m.group(1)], value)
    value = value.replace("{", "").replace("}", "")
    if "\ue000" in value or "\ue001" in value or "\ue002" in value:
        value = value.translate(_ID_RELEASE)
    return "".join(value.split())


def find_doi(fields: dict[str, str]) -> str | None:
    """From `doi` in any form (10.x/y, doi:10.x/y, https://doi.org/..., http://doi.acm.org/...), else from a
    DOI resolver `url`."""
    for name in ("doi", "url"):
        value = identifier(fields.get(name))
        if not value or (name == "url" and not _DOI_URL.match(value)):
            continue
        match = _DOI.search(value)
        if match:
            return normalize_doi(match.group(0).rstrip(".,;"))
    return None


def find_arxiv_id(fields: dict[str, str]) -> str | None:
    eprint = identifier(fields.get("eprint"))
    kind = identifier(fields.get("eprinttype") or fields.get("archiveprefix")).lower()
    if eprint and kind in ("arxiv", ""):
        match = _ARXIV_BARE.match(eprint) or _ARXIV_TEXT.search(eprint)
        if match:
            return normalize_arxiv_id(match.group(1))
    for name in ("url", "note", "journal", "journaltitle", "howpublished", "booktitle", "eprint", "volume"):
        value = fields.get(name)
        if name == "volume" and value:  # DBLP: journal = {CoRR}, volume = {abs/1706.03762}
            venue = (fields.get("journal") or fields.get("journaltitle") or "").strip("{} ").lower()
            value = f"CoRR {value}" if venue == "corr" else ""
        if not value:
            continue
        text = identifier(value) if name in ("url", "eprint") else value.replace("{", "").replace("}", "")
        lowered = text.lower()
        if "arxiv" not in lowered and "corr" not in lowered:
            continue
        match = _ARXIV_TEXT.search(text)
        if match:
            return normalize_arxiv_id(match.group(1))
    return None


def split_keywords(value: str) -> list[str]:
    """'a, b; c' -> [a, b, c]; a braced group is one keyword even with a comma or semicolon inside."""
    if not value.strip():
        return []
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(value):
        if ch == "{" and (i == 0 or value[i - 1] != "\\"):
            depth += 1
        elif ch == "}" and (i == 0 or value[i - 1] != "\\"):
            depth -= 1
        elif ch in ",;" and depth <= 0:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    # without LaTeX a keyword is kept as written (bib_text would also tidy the spaces before punctuation)
    words = (bib_text(p) if "\\" in p else " ".join(_unbraced(p).split()) for p in parts)
    return [k for k in words if k]


def entry_date_parts(fields: dict[str, str]) -> tuple[DateParts, str]:
    """biblatex `date` (2020-05-03, 2020-05, 2020, a range's start), else `year` with `month`; and the
    fields as written when an impossible month or day was dropped
    (2026-02-30 keeps 2026-02, 2026-13 or `month = {13}` only the year, as refcommon.date_parts does)."""
    raw = identifier(fields.get("date"))
    match = _DATE.match(raw)
    if match:
        return date_parts(*match.groups()), raw
    year_match = _YEAR.search(identifier(fields.get("year")))
    if not year_match:
        return DateParts(), ""
    year = year_match.group(0)
    month_text = identifier(fields.get("month"))
    month = _month_number(fields.get("month"))
    if month_text and not month:
        return DateParts(int(year), dropped=True), f"year = {{{identifier(fields.get('year'))}}}, month = {{{month_text}}}"
    return date_parts(year, month), ""


def _month_number(value: str | None) -> int | None:
    text = identifier(value).lower().rstrip(".")
    if text.isdigit():
        return int(text) if 1 <= int(text) <= 12 else None
    for i, name in enumerate(_MONTHS, start=1):
        if len(text) >= 3 and name.startswith(text):
            return i
    return None


def entry_venue(get, kind: str) -> str:
    venue = get("journaltitle") or get("journal") or get("booktitle") or get("maintitle")
    if not venue and kind in ("techreport", "report", "thesis", "phdthesis", "mastersthesis"):
        venue = get("institution") or get("school")
    return venue


def split_authors(value: Any) -> tuple[list[str], bool]:
    """'Doe, John and Jane Roe and others' -> (['John Doe', 'Jane Roe'], True), with bibtexparser's name
    parser ('von Last, Jr, First', '{Corporate Name}')."""
    if not isinstance(value, str) or not value.strip():
        return [], False
    names, truncated = [], False
    for part in _split_names(" ".join(value.split())):
        part = part.strip()
        if part.lower() in _TRUNCATION:
            truncated = True
            continue
        if _ET_AL_SUFFIX.search(part):
            part, truncated = _ET_AL_SUFFIX.sub("", part), True
        try:
            parts = parse_single_name_into_parts(part, strict=False)
            words = [*parts.first, *parts.von, *parts.last, *parts.jr]
            # '张, 三' is 张三 (family first, no space), not '三 张'
            han = None if parts.von or parts.jr else han_name(bib_text(" ".join(parts.last)),
                                                              bib_text(" ".join(parts.first)))
        except Exception:  # the name parser rejects some odd names: keep them as written
            words, han = [part], None
        name = han or bib_text(" ".join(words))
        if name and name.lower() not in _TRUNCATION:
            names.append(name)
    return names, truncated


def _split_names(value: str) -> list[str]:
    """'A and B' -> ['A', 'B'] at brace depth 0, like BibTeX. bibtexparser's splitter starts a name after
    ' and ' at its first character that is not an escape, so 'X and \\v{S}koda, J' gave '{S}koda, J'."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
        elif depth == 0 and ch in "aA" and (i == 0 or value[i - 1] == " ") and _AND.match(value, i):
            parts.append(value[start:i])
            start = i = i + 3
            continue
        i += 1
    parts.append(value[start:])
    return [p for p in (p.strip() for p in parts) if p]


def _abstract(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    if "\\" in value or "$" in value:
        return value.strip()
    return _unbraced(value).strip()  # no LaTeX for latex_to_text to see


def _reason(block: ParsingFailedBlock) -> str:
    error = getattr(block, "error", None)
    reason = getattr(error, "abort_reason", None) or (str(error) if error else "")
    reason = " ".join(reason.split()) or "cannot be read"
    head = (block.raw or "").strip().split("\n", 1)[0][:60]
    return f"{reason} (entry starts {head!r})" if head else reason
