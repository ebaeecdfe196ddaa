"""RIS (`ris`): the tagged format of reference managers (Zotero, EndNote, Mendeley, JabRef) and of
publishers' and databases' "export citation" buttons (Scopus, PubMed, ScienceDirect, ...).

The file is streamed: a record runs from its `TY  -` line to its `ER  -` line and is parsed by rispy
on its own, so each keeps its line and a broken record is rejected while the others are read. A record
that never reaches `ER` (the file was cut, or the next `TY` came first) is rejected at its `TY` line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from paperlens.core.ids import openreview_id_from
from paperlens.core.models import Paper
from paperlens.sources.base import BAD_BYTES, ReadContext, Rejected, Source, has_bad_bytes, open_text
from paperlens.sources.refcommon import (
    DateParts,
    abstract_of,
    date_parts,
    find_arxiv_id,
    find_doi,
    finish_or_reject,
    first_url,
    inverted_name,
    note_date,
    parse_date,
    rich_text,
    split_list,
    text_of,
)

_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: |$)")
_TITLE_TAG = re.compile(r"^(?:TI|T1)  -")
# A record longer than this (lines) has lost its ER line: it is rejected rather than held in memory.
MAX_RECORD_LINES = 20_000
# Types whose T2 is a series title rather than the journal or book a work appeared in.
_T2_IS_SERIES = {"BOOK", "EBOOK", "EDBOOK", "WHOLE", "THES"}


class RisSource(Source):
    name = "ris"
    description = "RIS reference records (TY  - ... ER  -), as reference managers and publishers export them"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        lines = [x.strip("\ufeff \t\r") for x in head.split("\n")[:80]]
        lines = [x for x in lines if x]
        if not lines or lines[0][:1] in ("{", "[", "<", "@", "%"):
            return False
        # A record opens within the first lines (some exporters write a 'Provider: ...' header first),
        # and a tag follows it.
        for number, line in enumerate(lines[:20]):
            if line.startswith("TY  -"):
                following = lines[number + 1:number + 2]
                return not following or bool(_TAG.match(following[0]))
        return False

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        from rispy import RisParser  # imported here: most runs read no RIS

        parser = RisParser()
        with open_text(ctx.path) as handle:
            record: list[str] = []
            starts: list[tuple[int, int]] = []  # (index in record, file line) of each TY line in it
            for number, raw in enumerate(handle, start=1):
                line = raw.rstrip("\r\n").lstrip("\ufeff")
                if line.startswith("TY  -"):
                    starts.append((len(record), number))
                    record.append(line)
                    continue
                if not record:
                    continue  # text between records (a header, blank lines) is not part of any record
                record.append(line)
                if line.startswith("ER  -"):
                    yield from self._records(ctx, parser, record, starts, closed=True)
                    record, starts = [], []
                elif len(record) > MAX_RECORD_LINES:
                    yield Rejected(ctx.path, starts[0][1], f"RIS record runs over {MAX_RECORD_LINES} lines without "
                                                           "an 'ER  -' line; it is skipped")
                    record, starts = [], []
            if record:
                yield from self._records(ctx, parser, record, starts, closed=False)

    def _records(self, ctx: ReadContext, parser: Any, lines: list[str], starts: list[tuple[int, int]],
                 closed: bool) -> Iterator[Paper | Rejected]:
        """The record(s) between TY lines and one ER. A TY line inside a record is a stray tag (rispy and
        JabRef read on) unless the parts before and after it both have a title: then the first part is a
        record whose ER line is missing, and it is rejected."""
        groups: list[tuple[int, int]] = []  # (index in lines, file line) where each record starts
        titled_group = False
        for n, (index, number) in enumerate(starts):
            end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
            titled = any(_TITLE_TAG.match(x) for x in lines[index:end])
            if not groups or (titled and titled_group):
                groups.append((index, number))
                titled_group = titled
            else:
                titled_group = titled_group or titled
        for n, (index, number) in enumerate(groups):
            if n + 1 < len(groups):
                yield Rejected(ctx.path, number, f"RIS record has no 'ER  -' line before the next record "
                                                 f"(line {groups[n + 1][1]}); it is skipped")
            elif not closed:
                yield Rejected(ctx.path, number, "RIS record has no 'ER  -' line (file cut short?); it is skipped")
            else:
                yield self._record(ctx, parser, lines[index:], number)

    def _record(self, ctx: ReadContext, parser: Any, lines: list[str], line: int) -> Paper | Rejected:
        if any(has_bad_bytes(x) for x in lines):
            return Rejected(ctx.path, line, BAD_BYTES)
        try:
            parsed = parser.parse_lines(iter(lines))
        except Exception as exc:  # rispy raises its own errors on malformed records
            return Rejected(ctx.path, line, f"broken RIS record ({type(exc).__name__}: {exc})")
        if not parsed:
            return Rejected(ctx.path, line, "broken RIS record")
        try:
            paper = paper_from_ris(parsed[0], author_tags(lines))
        except ValueError as exc:
            return Rejected(ctx.path, line, str(exc))
        return finish_or_reject(paper, ctx, self.name, line, paper.extra.get("ris_id"), "RIS record")


def _one(entry: dict[str, Any], *keys: str) -> str:
    for key in keys:
        text = text_of(entry.get(key))
        if text:
            return text
    return ""


def author_tags(lines: list[str]) -> list[str]:
    """The author tags ('AU', 'A1') of a record's lines, in the order they come, one per name."""
    tags = []
    for line in lines:
        match = _TAG.match(line)
        if match and match.group(1) in _AUTHOR_KEYS and line[match.end():].strip():
            tags.append(match.group(1))
    return tags


_AUTHOR_KEYS = {"AU": "authors", "A1": "first_authors"}  # rispy's names for the two tags


def _authors_in_order(entry: dict[str, Any], tags: list[str] | None) -> list[Any]:
    """AU and A1 names as the lines give them: rispy keeps one list per tag, so a record that mixes the two
    would otherwise have all A1 names after all AU names. Without the lines (or if rispy read a different
    number of names than there are lines), AU names come first, then A1 names."""
    lists = {tag: list(entry.get(key) or []) for tag, key in _AUTHOR_KEYS.items()}
    if tags is None or any(tags.count(tag) != len(names) for tag, names in lists.items()):
        return [*lists["AU"], *lists["A1"]]
    return [lists[tag].pop(0) for tag in tags]


def paper_from_ris(entry: dict[str, Any], tags: list[str] | None = None) -> Paper:
    """One record as rispy reads it (keys named after rispy's tag mapping) -> Paper (not finished); `tags`
    are its author tags in file order (author_tags)."""
    unknown = entry.get("unknown_tag") or {}
    kind = _one(entry, "type_of_reference").upper()
    # publishers' exports (Springer, Wiley, IEEE) keep a title's <i>/<sup> markup and entities: '&amp;'
    title = rich_text(_one(entry, "title", "primary_title", "translated_title"))
    abstract = abstract_of(entry.get("abstract")) or abstract_of(entry.get("notes_abstract"))
    if not title and not abstract:
        raise ValueError("RIS record has neither title (TI/T1) nor abstract (AB/N2)")
    authors = [inverted_name(a) for a in _authors_in_order(entry, tags) if isinstance(a, str) and a.strip()]
    venue = _one(entry, "alternate_title3", "journal_name")  # JF, JO
    if not venue and kind not in _T2_IS_SERIES:
        venue = _one(entry, "secondary_title")  # T2: journal, book or conference
    venue = rich_text(venue or text_of(unknown.get("BT")) or _one(entry, "alternate_title2", "alternate_title1"))  # JA, J2
    when, written = _date(entry)
    urls = [u for u in entry.get("urls") or [] if isinstance(u, str)]
    notes = [n for n in entry.get("notes") or [] if isinstance(n, str)]
    texts = [*urls, _one(entry, "doi"), *notes, _one(entry, "note"), _one(entry, "type_of_work"), venue,
             _one(entry, "secondary_title"), _one(entry, "accession_number")]
    arxiv_id = find_arxiv_id(*texts)
    doi = find_doi(_one(entry, "doi"), *urls, _one(entry, "type_of_work"))
    url = first_url(urls)
    extra: dict[str, Any] = {"ris_type": kind} if kind else {}
    if url:
        extra["url"] = url
    ris_id = _one(entry, "id")
    if ris_id:
        extra["ris_id"] = ris_id
    for raw, parsed in written:  # PY, Y1, DA: one with an impossible month or day
        note_date(extra, parsed, raw)
    keywords = [k for value in entry.get("keywords") or [] for k in split_list(value, ";")]
    openreview = next((openreview_id_from(u) for u in urls if "openreview.net" in u), None)
    return Paper(
        title=title, authors=authors, abstract_raw=abstract, keywords=keywords, venue=venue or None,
        year=when.year, date=when.iso, doi=doi, arxiv_id=arxiv_id, openreview_id=openreview, extra=extra,
    )


def _date(entry: dict[str, Any]) -> tuple[DateParts, list[tuple[str, DateParts]]]:
    """Year from PY (else Y1, else DA); the full date from whichever of DA, PY, Y1 has the most parts. And
    each of PY, Y1, DA as written with what it reads as (for note_date)."""
    written = [(raw, parse_date(raw)) for raw in (_one(entry, key) for key in ("year", "publication_year", "date"))]
    candidates = [parsed for _, parsed in written]
    year = next((c.year for c in candidates if c.year), None)
    if year is None:
        return date_parts(None), written
    full = [c for c in candidates if c.iso and c.year == year]
    full.sort(key=lambda c: len(c.iso or ""), reverse=True)
    return (full[0] if full else date_parts(year)), written
