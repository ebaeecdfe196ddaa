"""BibTeX (`bibtex`), parsed with bibtexparser 2.

A .bib file is parsed whole (bibtexparser works on a string; bibliographies are small). Every entry
keeps the line it starts on; a block the parser cannot read is rejected with its line. Our own export
writes `x-paperlens-id`, which is kept, so an exported bibliography reads back under the same ids.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bibtexparser
from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock

from ..clean import CODE_HOSTS, latex_to_text
from ..ids import normalize_arxiv_id, openreview_id_from
from ..models import Paper
from . import register
from .base import ReadContext, Rejected, Source, finish_paper, has_bad_bytes, open_text

_ENTRY_START = re.compile(r"(?m)^[ \t]*@[A-Za-z]+[ \t]*[{(]")
_AND = re.compile(r"\s+and\s+", re.I)
_YEAR = re.compile(r"(1[89]|20)\d{2}")
_KEYWORD_SEP = re.compile(r"[,;]")
_NON_ENTRY = {"string", "preamble", "comment"}
# The splitter logs each broken block with 0-based lines; we report them ourselves as Rejected.
logging.getLogger("bibtexparser.splitter").setLevel(logging.ERROR)


@register
class BibtexSource(Source):
    name = "bibtex"
    description = "BibTeX bibliography (.bib)"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        if head.lstrip("\ufeff \t\r\n")[:1] in ("{", "[", "<"):
            return False
        return bool(_ENTRY_START.search(head))

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        with open_text(ctx.path) as handle:
            text = handle.read()
        lines = text.split("\n")
        try:
            library = bibtexparser.parse_string(text)
        except Exception as exc:  # the parser itself failed on the whole file
            yield Rejected(ctx.path, 1, f"cannot parse BibTeX ({type(exc).__name__}: {exc})")
            return
        for block in library.blocks:
            line = (block.start_line or 0) + 1
            if isinstance(block, DuplicateBlockKeyBlock):
                yield Rejected(ctx.path, line, f"duplicate entry key {block.key!r}; the first one is kept")
            elif isinstance(block, ParsingFailedBlock):
                yield Rejected(ctx.path, line, f"broken BibTeX entry: {_reason(block)}")
            elif isinstance(block, Entry) and block.entry_type.lower() not in _NON_ENTRY:
                end = line + block.raw.count("\n") if block.raw else line
                if any(has_bad_bytes(x) for x in lines[line - 1:end]):
                    yield Rejected(ctx.path, line, "not valid UTF-8 text (is the file in another encoding?)")
                    continue
                yield self._entry(ctx, block, line)

    def _entry(self, ctx: ReadContext, entry: Entry, line: int) -> Paper | Rejected:
        fields = {f.key.lower(): f.value for f in entry.fields}
        get = _getter(fields)
        title, abstract = get("title"), get("abstract")
        if not title and not abstract:
            return Rejected(ctx.path, line, f"entry {entry.key!r} has neither title nor abstract")
        authors, truncated = split_authors(fields.get("author", ""))
        url = get("url")
        arxiv_id = None
        eprint = get("eprint")
        if eprint and (get("archiveprefix").lower() in ("arxiv", "") or normalize_arxiv_id(eprint)):
            arxiv_id = normalize_arxiv_id(eprint)
        arxiv_id = arxiv_id or normalize_arxiv_id(url) or normalize_arxiv_id(get("journal"))
        openreview = openreview_id_from(url) if "openreview.net" in url else None
        year_match = _YEAR.search(get("year"))
        keywords = [k.strip() for k in _KEYWORD_SEP.split(get("keywords")) if k.strip()]
        extra: dict[str, Any] = {"bibtex_key": entry.key, "bibtex_type": entry.entry_type.lower()}
        if url and not CODE_HOSTS.match(url) and not arxiv_id and not openreview:
            extra["url"] = url
        paper = Paper(
            id=get("x-paperlens-id"), title=title, authors=authors, authors_truncated=truncated,
            year=int(year_match.group(0)) if year_match else None,
            venue=get("journal") or get("booktitle") or None,
            abstract_raw=_abstract(fields.get("abstract")), keywords=keywords,
            code_url=url if CODE_HOSTS.match(url) else None,
            doi=get("doi") or None, arxiv_id=arxiv_id, openreview_id=openreview,
            categories=[get("primaryclass")] if get("primaryclass") else [], extra=extra,
        )
        return finish_paper(paper, ctx, self.name, line, source_id=entry.key)


def _getter(fields: dict[str, Any]):
    def get(name: str) -> str:
        value = fields.get(name)
        return bib_text(value) if isinstance(value, str) and value.strip() else ""

    return get


def bib_text(value: str) -> str:
    """A BibTeX value as plain text: LaTeX decoded, case-protecting braces dropped."""
    if "\\" not in value:
        return latex_to_text(value.replace("{", "").replace("}", ""))
    return latex_to_text(value)


def split_authors(value: Any) -> tuple[list[str], bool]:
    """'Doe, John and Jane Roe and others' -> (['John Doe', 'Jane Roe'], True)."""
    if not isinstance(value, str) or not value.strip():
        return [], False
    names, truncated = [], False
    for part in _AND.split(" ".join(value.split())):
        part = part.strip()
        if part.lower() == "others":
            truncated = True
            continue
        pieces = [p.strip() for p in part.split(",")]
        if len(pieces) == 2:  # Last, First
            part = f"{pieces[1]} {pieces[0]}"
        elif len(pieces) >= 3:  # Last, Jr, First
            part = f"{pieces[2]} {pieces[0]} {pieces[1]}"
        name = bib_text(part)
        if name:
            names.append(name)
    return names, truncated


def _abstract(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return value.strip() if "\\" in value else value.replace("{", "").replace("}", "").strip()


def _reason(block: ParsingFailedBlock) -> str:
    error = getattr(block, "error", None)
    reason = getattr(error, "abort_reason", None) or (str(error) if error else "")
    reason = " ".join(reason.split()) or "cannot be read"
    head = (block.raw or "").strip().split("\n", 1)[0][:60]
    return f"{reason} (entry starts {head!r})" if head else reason
