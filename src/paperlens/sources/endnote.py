"""EndNote / refer tagged records (`endnote-refer`, `.enw`): one field a line, `%` and a one-character
tag: `%0 Journal Article` (the type, which opens a record), `%T` title, `%A` author (one per line),
`%D` year, `%8` date, `%J` journal, `%B` book or proceedings, `%R` DOI, `%X` abstract, `%K`
keywords (one per line or separated by ';'), `%U` URL, `%F` label. A line without a tag continues the
field above. Records are separated by blank lines or a new `%0` line; each keeps the line it starts on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from paperlens.core.ids import openreview_id_from
from paperlens.core.models import Paper
from paperlens.sources.base import BAD_BYTES, ReadContext, Rejected, Source, has_bad_bytes, open_text
from paperlens.sources.refcommon import (
    abstract_of,
    find_arxiv_id,
    find_doi,
    finish_or_reject,
    first_url,
    inverted_name,
    parse_date,
    split_list,
)

_TAG = re.compile(r"^%([0-9A-Z@!#$&()*+^~<>?\]|])(?: (.*)|)$")
MAX_RECORD_LINES = 20_000


class EndnoteReferSource(Source):
    name = "endnote-refer"
    description = "EndNote / refer tagged records (%0 type, %T title, %A author, %D year, ...), .enw files"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        lines = [x.strip("\ufeff \t\r") for x in head.split("\n")[:60]]
        lines = [x for x in lines if x]
        if not lines or not _TAG.match(lines[0]):
            return False
        if any(x.startswith("@") and "{" in x for x in lines):
            return False  # BibTeX with '%' comment lines
        tagged = [m.group(1) for m in map(_TAG.match, lines) if m]
        return len(tagged) >= 2 and len(tagged) * 2 >= len(lines) and bool({"0", "T", "A"} & set(tagged))

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        with open_text(ctx.path) as handle:
            fields: list[list[str]] = []  # [tag, value] in order
            start = 0
            for number, raw in enumerate(handle, start=1):
                line = raw.rstrip("\r\n").lstrip("\ufeff")
                if not line.strip():
                    if fields:
                        yield self._record(ctx, fields, start)
                    fields = []
                    continue
                match = _TAG.match(line.rstrip())
                if match and match.group(1) == "0" and fields:
                    yield self._record(ctx, fields, start)
                    fields = []
                if match:
                    if not fields:
                        start = number
                    fields.append([match.group(1), (match.group(2) or "").strip()])
                elif fields:
                    fields[-1][1] = f"{fields[-1][1]}\n{line.strip()}" if fields[-1][1] else line.strip()
                else:
                    yield Rejected(ctx.path, number, f"text outside a record (expected a '%' tag): {line[:40]!r}")
                    continue
                if len(fields) > MAX_RECORD_LINES:
                    yield Rejected(ctx.path, start, f"EndNote record runs over {MAX_RECORD_LINES} fields; it is skipped")
                    fields = []
            if fields:
                yield self._record(ctx, fields, start)

    def _record(self, ctx: ReadContext, fields: list[list[str]], line: int) -> Paper | Rejected:
        if any(has_bad_bytes(value) for _, value in fields):
            return Rejected(ctx.path, line, BAD_BYTES)
        try:
            paper = paper_from_refer(fields)
        except ValueError as exc:
            return Rejected(ctx.path, line, str(exc))
        return finish_or_reject(paper, ctx, self.name, line, paper.extra.get("label"), "EndNote record")


def paper_from_refer(fields: list[list[str]]) -> Paper:
    """The tagged fields of one record -> Paper (not finished). ValueError when it holds no paper."""
    values: dict[str, list[str]] = {}
    for tag, value in fields:
        if value:
            values.setdefault(tag, []).append(value)

    def one(tag: str) -> str:
        return " ".join(values[tag][0].split()) if tag in values else ""

    title, abstract = one("T"), abstract_of(values.get("X", [""])[0].strip())
    if not title and not abstract:
        raise ValueError("EndNote record has neither title (%T) nor abstract (%X)")
    authors = [inverted_name(a) for a in values.get("A", [])]
    kind = one("0")
    # %D is the year; %8 a fuller date, used when it agrees with %D.
    year_field, date_field = parse_date(one("D")), parse_date(one("8"))
    when = date_field if date_field.year and date_field.year == (year_field.year or date_field.year) else year_field
    venue = one("J") or one("B")
    urls = [u.strip() for value in values.get("U", []) for u in value.split("\n") if u.strip()]
    doi = find_doi(*values.get("R", []), *urls)
    arxiv_id = find_arxiv_id(*urls, *values.get("R", []), one("J"), *values.get("O", []))
    keywords = [k for value in values.get("K", []) for k in split_list(value, ";\n")]
    extra: dict[str, str] = {"endnote_type": kind} if kind else {}
    url = first_url(urls)
    if url:
        extra["url"] = url
    if one("F"):
        extra["label"] = one("F")
    openreview = next((openreview_id_from(u) for u in urls if "openreview.net" in u), None)
    return Paper(
        title=title, authors=authors, abstract_raw=abstract, keywords=keywords, venue=venue or None,
        year=when.year, date=when.iso, doi=doi, arxiv_id=arxiv_id, openreview_id=openreview, extra=extra,
    )
