"""ISI / Web of Science tagged export (`isi-wos`, "FN ISI Export Format" / "FN Clarivate Analytics Web of
Science"): two-letter tags, the value after one space, continuation lines indented by three spaces;
`PT` opens a record and `ER` closes it. Read: `TI` title, `AF` full author names (else `AU`), `PY`
year and `PD` month/day, `SO` source (journal) title, `DI` DOI, `AB` abstract, `DE` author keywords,
`ID` Keywords Plus (kept in `extra`), `UT` accession number, `AR`/`DT` in `extra`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from paperlens.core.models import Paper
from paperlens.sources.base import BAD_BYTES, ReadContext, Rejected, Source, has_bad_bytes, open_text
from paperlens.sources.refcommon import (
    abstract_of,
    find_arxiv_id,
    find_doi,
    finish_or_reject,
    inverted_name,
    parse_date,
    split_list,
)

_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: (.*)|)$")
_LIST_TAGS = {"AU", "AF", "CR", "C1", "BE", "CA", "GP"}  # one item a line
MAX_RECORD_LINES = 20_000


class IsiSource(Source):
    name = "isi-wos"
    description = "ISI / Web of Science tagged export (FN ..., PT J, AU, TI, SO, PY, ..., ER)"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        lines = [x.rstrip("\r") for x in head.lstrip("\ufeff").split("\n")[:60]]
        lines = [x for x in lines if x.strip()]
        if not lines:
            return False
        first = lines[0].strip()
        if first.startswith("FN ") and (any(w in first for w in ("ISI", "Web of", "Clarivate", "Thomson"))
                                        or any(re.match(r"^(?:VR \d|PT [A-Z]$)", x) for x in lines[1:4])):
            return True
        # No header: a PT line, then more tags.
        return bool(re.match(r"^PT [A-Z]$", first)) and sum(bool(_TAG.match(x)) for x in lines[1:6]) >= 3

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        with open_text(ctx.path) as handle:
            fields: list[list[str]] | None = None
            start = 0
            for number, raw in enumerate(handle, start=1):
                line = raw.rstrip("\r\n").lstrip("\ufeff")
                if not line.strip():
                    continue
                if fields is not None and line.startswith("   "):
                    if fields:
                        fields[-1].append(line.strip())
                    continue
                match = _TAG.match(line.rstrip())
                if not match:
                    if fields is not None:
                        yield Rejected(ctx.path, number, f"not a tagged line: {line[:40]!r}")
                    continue
                tag, value = match.group(1), (match.group(2) or "").strip()
                if tag == "PT":
                    if fields is not None:
                        yield Rejected(ctx.path, start, f"record has no 'ER' line before the next record "
                                                        f"(line {number}); it is skipped")
                    fields, start = [[tag, value]], number
                elif fields is None:
                    continue  # FN, VR, EF and anything between records
                elif tag == "ER":
                    yield self._record(ctx, fields, start)
                    fields = None
                else:
                    fields.append([tag, value])
                    if len(fields) > MAX_RECORD_LINES:
                        yield Rejected(ctx.path, start, f"record runs over {MAX_RECORD_LINES} fields without an "
                                                        "'ER' line; it is skipped")
                        fields = None
            if fields is not None:
                yield Rejected(ctx.path, start, "record has no 'ER' line (file cut short?); it is skipped")

    def _record(self, ctx: ReadContext, fields: list[list[str]], line: int) -> Paper | Rejected:
        if any(has_bad_bytes(v) for field in fields for v in field):
            return Rejected(ctx.path, line, BAD_BYTES)
        try:
            paper = paper_from_isi(fields)
        except ValueError as exc:
            return Rejected(ctx.path, line, str(exc))
        return finish_or_reject(paper, ctx, self.name, line, paper.extra.get("ut"), "ISI record")


def paper_from_isi(fields: list[list[str]]) -> Paper:
    """The tagged fields of one record ([tag, first line, continuation lines...]) -> Paper (not finished)."""
    items: dict[str, list[str]] = {}  # list tags: one item a line
    text: dict[str, str] = {}  # other tags: the lines joined with spaces
    for tag, *lines in fields:
        lines = [x for x in lines if x]
        if tag in _LIST_TAGS:
            items.setdefault(tag, []).extend(lines)
        elif tag not in text:
            text[tag] = " ".join(" ".join(lines).split())
    title, abstract = text.get("TI", ""), abstract_of(text.get("AB", ""))
    if not title and not abstract:
        raise ValueError("ISI record has neither title (TI) nor abstract (AB)")
    authors = [inverted_name(a) for a in items.get("AF") or items.get("AU") or []]
    year = text.get("PY", "")
    when = parse_date(f"{text['PD']} {year}") if year and text.get("PD") else parse_date(year)
    if when.year is None and year:
        when = parse_date(year)
    doi = find_doi(text.get("DI", ""), text.get("DL", ""))
    arxiv_id = find_arxiv_id(text.get("AR", ""), text.get("UT", ""))
    extra: dict[str, object] = {}
    for tag, name in (("UT", "ut"), ("DT", "document_type"), ("PT", "publication_type"), ("AR", "article_number")):
        if text.get(tag):
            extra[name] = text[tag]
    if text.get("ID"):
        extra["keywords_plus"] = split_list(text["ID"], ";")
    return Paper(
        title=title, authors=authors, abstract_raw=abstract, keywords=split_list(text.get("DE", ""), ";"),
        venue=text.get("SO") or None, year=when.year, date=when.iso, doi=doi, arxiv_id=arxiv_id, extra=extra,
    )
