"""arXiv API responses (Atom, `arxiv-atom`) and the fetcher that saves them.

An API response is one page of at most a few hundred entries, so it is parsed whole (with feedparser,
as the `arxiv` library does), up to PAPERLENS_MAX_DOCUMENT_BYTES; each entry keeps the line its <entry>
starts on. Before feedparser sees it, one linear pass finds the entries' lines and cuts the document at an
<entry> opened inside another or at nesting past PAPERLENS_MAX_XML_DEPTH (feedparser takes about 0.1 ms
an element, twice when the strict parse fails: hostile nesting would keep it busy for minutes). `fetch_arxiv` pages
through the API with httpx and keeps every raw response as a file, so a fetched paper's provenance
names a real file and line, and a fetch can be re-ingested offline.
"""

from __future__ import annotations

import re
import time
import uuid
from bisect import bisect_right
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser

from paperlens.core.ids import normalize_arxiv_id
from paperlens.core.models import Paper
from paperlens.sources.base import (
    BAD_BYTES,
    InputLimitError,
    ReadContext,
    Rejected,
    Source,
    finish_paper,
    has_bad_bytes,
    limit,
    open_text,
    read_document,
)

ARXIV_API = "https://export.arxiv.org/api/query"
ATOM_NS = "http://www.w3.org/2005/Atom"
_ENTRY_OPEN = re.compile(r"<(?:[\w.-]+:)?entry[\s>/]")
_ENTRY_CLOSE = re.compile(r"</(?:[\w.-]+:)?entry\s*>")
_ROOT = re.compile(r"<([\w.-]+:)?([\w.-]+)[\s>/]")
_VERSION = re.compile(r"v(\d+)$")
_PARSER_BUGS = (ValueError, TypeError, AttributeError, KeyError, IndexError)
# feedparser looks for an e-mail address in every author with a regular expression that is quadratic in the
# length of a word (20,001 letters: 3 s; 250,001: many minutes), whatever the field limits say. No name or
# e-mail address has a word this long (an address is at most 254 characters), so an author that holds one
# rejects its entry before feedparser sees it; the cost is then at most this many steps a character.
MAX_NAME_WORD = 300
_LONG_WORD = re.compile(r"(?<![^\s<>])[^\s<>]{" + str(MAX_NAME_WORD + 1) + ",}")  # from a word's start only: linear
# the elements feedparser treats as a person (Atom, Dublin Core, RSS, iTunes); a self-closing one is empty
_PERSON_TAG = re.compile(r"<(/?)(?:[\w.-]+:)?(?:author|contributor|creator|publisher|managingEditor|webMaster|owner)"
                         r"(?=[\s>/])(?:[^<>]{0,200}?(/)>)?", re.I)


class ArxivAtomSource(Source):
    name = "arxiv-atom"
    description = "arXiv API response (Atom XML)"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        # rss.arxiv.org's Atom listing feeds (announce types) are arxiv-rss
        return "<feed" in head and ATOM_NS in head and "arxiv" in head.lower() and "announce_type" not in head

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        try:
            with open_text(ctx.path) as handle:
                text = read_document(handle, ctx.path)
        except InputLimitError as exc:
            yield Rejected(ctx.path, 1, exc.message)
            return
        if has_bad_bytes(text):
            yield from _reject_bad_bytes(ctx, text)
            return
        root = _root_element(text)
        if root != "feed":
            found = f"<{root}>" if root else "no XML element"
            yield Rejected(ctx.path, _first_content_line(text), f"not an Atom feed: found {found}, expected <feed>")
            return
        nul = text.find("\x00")
        if nul >= 0:  # not allowed anywhere in XML; the parser library fails on it rather than reporting it
            yield Rejected(ctx.path, text.count("\n", 0, nul) + 1, "NUL character in the XML; the response is skipped")
            return
        text, dropped, cut = _drop_long_names(text)
        for line in dropped:
            yield Rejected(ctx.path, line, f"an author holds a word of more than {MAX_NAME_WORD} characters (not a "
                                           "name or an e-mail address); the entry is skipped")
        spans, nested = _entry_spans(text)
        if cut is not None:  # outside any closed entry: the text from that author on was removed
            yield from self._entries_before(ctx, text, spans, cut)
            yield Rejected(ctx.path, cut, f"an author holds a word of more than {MAX_NAME_WORD} characters (not a "
                                          "name or an e-mail address); the rest of the response is skipped")
            return
        if nested is not None:  # never valid Atom, and costly for the XML parser when it repeats
            inner, outer = nested
            yield from self._entries_before(ctx, text, spans, inner)
            yield Rejected(ctx.path, inner, f"malformed Atom: an <entry> starts inside the <entry> of line {outer}, "
                                            "which has not closed; the rest is skipped")
            return
        deep = _too_deep(text, limit("PAPERLENS_MAX_XML_DEPTH"))
        if deep is not None:  # the XML library takes its time over every element before it gives up
            line, depth, offset = deep
            yield from self._entries_before(ctx, text, spans, line, before=offset)
            yield Rejected(ctx.path, line, f"XML nested more than {depth} elements deep (PAPERLENS_MAX_XML_DEPTH); "
                                           "the rest is skipped")
            return
        try:
            raw = text.encode("utf-8")
            feed = _parse(raw)
        except _PARSER_BUGS as exc:  # feedparser itself fails on some hostile XML instead of flagging it
            yield Rejected(ctx.path, _first_content_line(text),
                           f"cannot parse the XML ({type(exc).__name__}: {exc}); the response is skipped")
            return
        error = getattr(feed, "bozo_exception", None) if feed.get("bozo") else None
        if error is not None and hasattr(error, "getLineNumber"):  # broken XML, not a mere encoding note
            error_line = _our_line(text, _unshifted(raw, max(1, int(error.getLineNumber() or 1))))
            yield from self._entries_before(ctx, text, spans, error_line)
            yield Rejected(ctx.path, min(error_line, _last_line(text)),
                           f"malformed XML ({_sax_message(error)}); the rest is skipped")
            return
        for index, entry in enumerate(feed.entries):
            yield self._safe_entry(ctx, entry, spans[index][0] if index < len(spans) else 1)

    def _entries_before(self, ctx: ReadContext, text: str, spans: list[tuple[int, int | None]],
                        line: int, before: int | None = None) -> Iterator[Paper | Rejected]:
        """The entries that closed before the break on `line` (at offset `before`, when known): the text up to
        them re-parsed as a complete feed."""
        entries = []
        # An entry closing on the break's own line may close before the break (the end of a file without a
        # final newline) or after it: tried with it first, then without it.
        for closed_by in (line, line - 1):
            complete = [i for i, (_, end) in enumerate(spans) if end is not None and end <= closed_by]
            if not complete:
                break
            cut = _ENTRY_CLOSE.search(text, _offset_of_line(text, spans[complete[-1]][1]))
            if cut is not None and before is not None and cut.end() > before:
                continue  # that entry closes after the break: never parse what broke (30,000 tags: seconds)
            try:
                prefix = _parse(text[: cut.end()] + "\n</feed>\n") if cut else None
            except _PARSER_BUGS:
                prefix = None
            if prefix is not None and not prefix.get("bozo") and len(prefix.entries) == len(complete):
                entries = prefix.entries
                break
        for index, entry in enumerate(entries):
            yield self._safe_entry(ctx, entry, spans[index][0])

    def _safe_entry(self, ctx: ReadContext, entry: Any, line: int) -> Paper | Rejected:
        try:
            return self._entry(ctx, entry, line)
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            return Rejected(ctx.path, line, f"cannot read entry ({type(exc).__name__}: {exc})")

    def _entry(self, ctx: ReadContext, entry: Any, line: int) -> Paper | Rejected:
        raw_id = entry.get("id", "") or ""
        if "/api/errors" in raw_id:  # the API reports a bad query as an entry
            return Rejected(ctx.path, line, f"arXiv API error: {' '.join((entry.get('summary') or '').split())}")
        arxiv_id = normalize_arxiv_id(raw_id)
        if not arxiv_id:
            return Rejected(ctx.path, line, f"entry id is not an arXiv id: {raw_id[:60]!r}")
        title, abstract = entry.get("title", "") or "", entry.get("summary", "") or ""
        if not title.strip() and not abstract.strip():
            return Rejected(ctx.path, line, "entry has neither title nor summary")
        categories = []
        primary = entry.get("arxiv_primary_category") or {}
        if primary.get("term"):
            categories.append(primary["term"])
        categories += [t["term"] for t in entry.get("tags", []) if t.get("term") and t["term"] not in categories]
        published = _iso(entry.get("published"))
        extra: dict[str, Any] = {}
        version = _VERSION.search(raw_id.rstrip("/"))
        if version:
            extra["arxiv_version"] = int(version.group(1))
        if entry.get("arxiv_comment"):
            extra["comments"] = " ".join(entry["arxiv_comment"].split())
        updated = _iso(entry.get("updated"))
        if updated:
            extra["update_date"] = updated
        for link in entry.get("links", []):
            if link.get("title") == "pdf" and link.get("href"):
                extra["pdf_url"] = link["href"]
        paper = Paper(
            title=title, authors=[a.get("name", "") for a in entry.get("authors", []) if a.get("name")],
            abstract_raw=abstract.strip(), date=published, year=int(published[:4]) if published else None,
            categories=categories, doi=entry.get("arxiv_doi"),
            venue=" ".join((entry.get("arxiv_journal_ref") or "").split()) or None,
            arxiv_id=arxiv_id, extra=extra,
        )
        return finish_paper(paper, ctx, self.name, line, source_id=arxiv_id)


def _parse(text: str | bytes) -> Any:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)


_FIRST_ELEMENT = re.compile(rb"<\w")


def _unshifted(raw: bytes, xml_line: int) -> int:
    """feedparser rewrites a DOCTYPE (and ENTITY declarations) before parsing, which can change the number
    of lines before the root element; the line `xml_line` of its text in our file's terms."""
    first = _FIRST_ELEMENT.search(raw)
    if first is None or b"<!" not in raw[: first.start()]:
        return xml_line
    from feedparser.sanitizer import replace_doctype

    _, replaced, _ = replace_doctype(raw)
    start = first.start() or -1  # as replace_doctype splits the text
    body = len(raw) - (start + 1)
    old_head, new_head = raw[: start + 1].decode("utf-8", "replace"), replaced[: len(replaced) - body]
    old_lines = len(_XML_NEWLINE.findall(old_head))
    new_lines = len(_XML_NEWLINE.findall(new_head.decode("utf-8", "replace")))
    if xml_line > new_lines:  # in the body, which feedparser leaves as it is
        return xml_line + old_lines - new_lines
    return min(xml_line, old_lines + 1)


def _last_line(text: str) -> int:
    """The last line with any content: an error 'at the end' is reported there, not on a line past it."""
    return text.rstrip().count("\n") + 1


def _offset_of_line(text: str, line: int) -> int:
    offset = 0
    for _ in range(line - 1):
        offset = text.index("\n", offset) + 1
    return offset


_XML_NEWLINE = re.compile(r"\r\n|\r|\n")


def _our_line(text: str, xml_line: int) -> int:
    """The XML parser counts a lone '\r' as a line break too; we count '\n' only (like editors, `wc -l`)."""
    offset = 0
    for number, match in enumerate(_XML_NEWLINE.finditer(text), start=2):
        if number > xml_line:
            break
        offset = match.end()
    return text.count("\n", 0, offset) + 1


def _root_element(text: str) -> str | None:
    """The name of the first element, past any declarations, comments and DOCTYPE (one scan: linear even
    when one of them never closes)."""
    pos = 0
    while True:
        pos = text.find("<", pos)
        if pos < 0:
            return None
        for opener, closer in (("<?", "?>"), ("<!--", "-->"), ("<!DOCTYPE", ">")):
            if text.startswith(opener, pos):
                end = text.find(closer, pos + len(opener))
                if end < 0:
                    return None
                pos = end + len(closer)
                break
        else:
            match = _ROOT.match(text, pos)
            if match:
                return match.group(2)
            pos += 1


def _first_content_line(text: str) -> int:
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip() and not line.lstrip().startswith("<?"):
            return number
    return 1


_ENTRY_TAG = re.compile(rf"(?P<open>{_ENTRY_OPEN.pattern})|{_ENTRY_CLOSE.pattern}")


def _entry_spans(text: str) -> tuple[list[tuple[int, int | None]], tuple[int, int] | None]:
    """(start line, end line or None when unclosed) of each <entry>, in document order: each entry ends at
    the first </entry> after its start; and (line, line of the open entry) of the first <entry> that starts
    inside another, or None. One pass over the text, counting lines as it goes (linear, even for thousands
    of entries that never close)."""
    spans: list[tuple[int, int | None]] = []
    waiting: list[int] = []  # indexes of entries whose end is not found yet
    nested = None
    line, counted = 1, 0
    for tag in _ENTRY_TAG.finditer(text):
        line += text.count("\n", counted, tag.start())
        counted = tag.start()
        if tag.group("open") is not None:
            if waiting and nested is None:
                nested = (line, spans[waiting[-1]][0])
            waiting.append(len(spans))
            spans.append((line, None))
        else:
            for index in waiting:
                spans[index] = (spans[index][0], line)
            waiting.clear()
    return spans, nested


def _drop_long_names(text: str) -> tuple[str, list[int], int | None]:
    """The text without the entries whose author holds a word longer than MAX_NAME_WORD (their lines kept
    as empty lines, so every line number stands), the start lines of those entries, and the line of such an
    author outside any closed entry (the text is cut there: the rest removed), or None. Linear: one pass for
    long words (usually none), one for person elements and entries."""
    words = [m.start() for m in _LONG_WORD.finditer(text)]
    if not words:
        return text, [], None
    opens, closes = [], []
    for tag in _PERSON_TAG.finditer(text):
        if tag.group(1):
            closes.append(tag.start())
        elif not tag.group(2):
            opens.append(tag.start())
    entries: list[list[int]] = []  # [start, end] of each <entry>, ending at the first </entry> after it
    waiting: list[list[int]] = []
    for tag in _ENTRY_TAG.finditer(text):
        if tag.group("open") is not None:
            waiting.append([tag.start(), -1])
            entries.append(waiting[-1])
        else:
            for entry in waiting:
                entry[1] = tag.end()
            waiting.clear()
    starts = [start for start, _ in entries]
    drop: list[tuple[int, int]] = []
    cut = None
    for word in words:
        person = bisect_right(opens, word) - 1
        if person < 0:
            continue
        close = bisect_right(closes, opens[person])
        if close < len(closes) and closes[close] < word:
            continue  # not inside a person element
        index = bisect_right(starts, word) - 1
        if index >= 0 and entries[index][1] > word:
            if not drop or drop[-1][0] != entries[index][0]:
                drop.append((entries[index][0], entries[index][1]))
        else:
            cut = opens[person]
            break
    pieces, dropped, at, line = [], [], 0, 1
    for start, end in drop:
        if start < at:  # inside an entry dropped already (nested entries share their end)
            continue
        line += text.count("\n", at, start)
        pieces += [text[at:start], _newlines(text[start:end])]
        dropped.append(line)
        line += text.count("\n", start, end)
        at = end
    cut_line = None
    if cut is not None:
        cut = max(cut, at)  # a person element left open in a dropped entry: cut after that entry
        pieces += [text[at:cut], _newlines(text[cut:])]
        cut_line = text.count("\n", 0, cut) + 1
    else:
        pieces.append(text[at:])
    return "".join(pieces), dropped, cut_line


def _newlines(text: str) -> str:
    """Only the line breaks of `text` (also a lone CR, which the XML parser counts)."""
    return "".join(_XML_NEWLINE.findall(text))


_TAG = re.compile(r"<(/?)[A-Za-z_][^<>]*?(/?)>")


def _too_deep(text: str, max_depth: int) -> tuple[int, int, int] | None:
    """(line, limit, offset) of the first element nested deeper than `max_depth` (counting unclosed ones too), or
    None. One pass over the tags, and none for a text with fewer tags than the limit."""
    if text.count("<") <= max_depth:
        return None
    depth = 0
    for tag in _TAG.finditer(text):
        if tag.group(1):
            depth -= 1
        elif not tag.group(2):
            depth += 1
            if depth > max_depth:
                return text.count("\n", 0, tag.start()) + 1, max_depth, tag.start()
    return None


def _reject_bad_bytes(ctx: ReadContext, text: str) -> Iterator[Rejected]:
    for number, line in enumerate(text.split("\n"), start=1):
        if has_bad_bytes(line):
            yield Rejected(ctx.path, number, BAD_BYTES + "; "
                                             "the response is skipped")
            return


def _sax_message(error: Exception) -> str:
    message = getattr(error, "getMessage", None)
    return message() if callable(message) else str(error)


def _iso(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).date().isoformat()
    except ValueError:
        return value[:10] if re.match(r"\d{4}-\d{2}-\d{2}", value) else None


# ------------------------------------------------------------------------------------ fetching


class FetchError(Exception):
    """The API could not be reached or refused the query."""


def fetch_arxiv(query: str, max_results: int = 50, *, base_url: str = ARXIV_API, save_dir: str | Path = "fetched",
                page_size: int = 100, delay: float = 3.0, timeout: float = 30.0) -> list[Path]:
    """Run an arXiv API search and save each Atom page under save_dir; returns the saved files.

    arXiv asks clients to wait 3 s between calls; `delay` is that wait (only between pages)."""
    import httpx

    if max_results < 1:
        raise FetchError("--max must be at least 1")
    save_dir = Path(save_dir)
    # unique per run: a provenance entry must never point at a file a later fetch overwrote
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    saved: list[Path] = []
    with httpx.Client(timeout=timeout, follow_redirects=True,
                      headers={"User-Agent": "paperlens (+https://github.com/paperlens)"}) as client:
        start = 0
        while start < max_results:
            if start and delay:
                time.sleep(delay)
            size = min(page_size, max_results - start)
            params = {"search_query": query, "start": start, "max_results": size}
            try:
                response = client.get(base_url, params=params)
            except httpx.HTTPError as exc:
                raise FetchError(f"cannot reach {base_url}: {exc}") from exc
            if response.status_code != 200:
                raise FetchError(f"{response.url} answered HTTP {response.status_code}")
            save_dir.mkdir(parents=True, exist_ok=True)  # only now: a failed fetch leaves no empty folder
            path = save_dir / f"arxiv-{stamp}-{start:06d}.xml"
            path.write_bytes(response.content)
            saved.append(path)
            feed = feedparser.parse(response.content)
            got = len(feed.entries)
            total = _total_results(feed)
            start += size
            if got < size or (total is not None and start >= total):
                break
    return saved


def _total_results(feed: Any) -> int | None:
    value = feed.feed.get("opensearch_totalresults")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


__all__ = ["ARXIV_API", "ArxivAtomSource", "FetchError", "fetch_arxiv"]
