"""What the XML adapters share (MODS, Zotero RDF, EndNote XML): a safe, streaming reader of record
elements with the line each starts on.

Parsing is defusedxml's expat parser: entity declarations (the "billion laughs") and external
entities or DTDs are refused, nothing is fetched. The file is fed as bytes, so the encoding its XML
declaration names is honoured. A record element is handed out once it is closed and then dropped from
the tree, so memory stays bounded by one record. Broken XML ends the file with one Rejected naming the
line; the records before it are kept.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from paperlens.sources.base import ReadContext, Rejected

if TYPE_CHECKING:
    from paperlens.core.models import Paper

CHUNK = 1 << 16
_XML_PROLOG = re.compile(r"^(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*", re.S)
_ROOT = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")


_LOCAL: dict[str, str] = {}


def local(tag: str) -> str:
    """'{namespace}name' -> 'name' (memoised: a file has few distinct tags, each met many times)."""
    name = _LOCAL.get(tag)
    if name is None:
        name = tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
        if len(_LOCAL) < 4096:
            _LOCAL[tag] = name
    return name


def root_name(head: str) -> str | None:
    """Local name of the document's first element, from the first bytes of the file."""
    body = head.lstrip("\ufeff")
    match = _ROOT.match(body, _XML_PROLOG.match(body).end())
    return match.group(2) if match else None


def text_of(element: Element | None) -> str:
    """All text inside the element, white space collapsed."""
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def children(element: Element | None, name: str) -> list[Element]:
    if element is None:
        return []
    return [child for child in element if local(child.tag) == name]


def child(element: Element | None, name: str) -> Element | None:
    if element is None:
        return None
    return next((c for c in element if local(c.tag) == name), None)


class _Builder(TreeBuilder):
    def __init__(self, is_record: Callable[[str, int], bool]):
        super().__init__()
        self.is_record = is_record
        self.parser = None  # set once the parser exists; its expat object gives the current line
        self.depth = 0
        self.open_lines: list[int | None] = []  # per open element: its line when it is a record
        self.stack: list[Element] = []
        self.in_record = 0
        self.done: list[tuple[Element, int]] = []

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        line = None
        if not self.in_record and self.is_record(local(tag), self.depth):
            line = self.parser.parser.CurrentLineNumber if self.parser is not None else 1
            self.in_record += 1
        self.open_lines.append(line)
        self.stack.append(element)
        self.depth += 1
        return element

    def end(self, tag):
        element = super().end(tag)
        self.depth -= 1
        line = self.open_lines.pop()
        self.stack.pop()
        if line is not None:
            self.in_record -= 1
            self.done.append((element, line))
            if self.stack:
                self.stack[-1].remove(element)  # handed out: the tree keeps no closed record
        return element


def _open_bytes(path: str):
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(Path(path).suffix)
    return opener(path, "rb") if opener else open(path, "rb")  # noqa: SIM115


def record_papers(ctx: ReadContext, source: str, is_record: Callable[[str, int], bool], kind: str,
                  convert: Callable[[Element], Paper], source_id: Callable[[Element], str | None],
                  label: str) -> Iterator[Paper | Rejected]:
    """The papers of every record element (iter_records): `convert(element)` finished (refcommon's
    finish_or_reject, `label` naming the record), a ValueError from it a Rejected at the record's line."""
    from paperlens.sources.refcommon import finish_or_reject

    for item in iter_records(ctx, is_record, kind):
        if isinstance(item, Rejected):
            yield item
            continue
        element, line = item
        try:
            paper = convert(element)
        except ValueError as exc:
            yield Rejected(ctx.path, line, str(exc))
            continue
        yield finish_or_reject(paper, ctx, source, line, source_id(element), label)


def iter_records(ctx: ReadContext, is_record: Callable[[str, int], bool],
                 kind: str) -> Iterator[tuple[Element, int] | Rejected]:
    """(record element, line it starts on) for every element `is_record(local name, depth)` accepts
    that is not inside another record; a Rejected for XML that cannot be read."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    builder = _Builder(is_record)
    parser = DefusedXMLParser(target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    builder.parser = parser
    # expat also counts a lone CR as a line break; the file's lines are its "\n"s, so every line given
    # out is bounded by the lines read so far (a rejection never names a line past the last one)
    newlines = 0
    with _open_bytes(ctx.path) as handle:
        while True:
            chunk = handle.read(CHUNK)
            newlines += chunk.count(b"\n")
            try:
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
            except LookupError as exc:  # an encoding name that Python does not know, e.g. encoding="UT8"
                yield from _bounded(builder.done, newlines + 1)
                yield Rejected(ctx.path, 1, f"{kind} XML declares an unknown encoding ({exc}); not read")
                return
            except ParseError as exc:
                yield from _bounded(builder.done, newlines + 1)
                line = max(exc.position[0], 1) if getattr(exc, "position", None) else 1
                line = min(line, newlines + 1)
                yield Rejected(ctx.path, line, f"broken {kind} XML ({_reason(exc)}); the rest of the file is skipped")
                return
            except DefusedXmlException as exc:
                yield from _bounded(builder.done, newlines + 1)
                yield Rejected(ctx.path, min(parser.parser.CurrentLineNumber, newlines + 1),
                               f"{kind} XML declares entities or a DTD ({type(exc).__name__}), which are not read; "
                               "the rest of the file is skipped")
                return
            yield from _bounded(builder.done, newlines + 1)
            builder.done.clear()
            if not chunk:
                return


def _bounded(done: list[tuple[Element, int]], last: int) -> Iterator[tuple[Element, int]]:
    for element, line in done:
        yield element, min(line, last)


def _reason(exc: ParseError) -> str:
    return str(exc).split(":", 1)[0]
