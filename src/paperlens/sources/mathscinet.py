"""MathSciNet JSON (`mathscinet-json`): the AMS MathSciNet search API's `{"results": [...], "total": N}`
(or a bare list of its items). Each item: `mrnumber`, `titles.title` (LaTeX, cleaned),
`authors` [{name: "Family, Given"}], `issue.issue` {pubYear, journal.shortTitle} for articles or
`book` {pubYear, series[].title} for books and chapters, `articleUrl` (a DOI link), `primaryClass`
(the MSC code and its description, kept in `extra`). Items are decoded one at a time (see refcommon).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from paperlens.core.models import Paper
from paperlens.sources.base import ReadContext, Rejected
from paperlens.sources.refcommon import (
    JsonItemsSource,
    date_parts,
    doi_from_url,
    find_arxiv_id,
    head_start,
    inverted_name,
    text_of,
)

_MRNUMBER = re.compile(r'"mrnumber"\s*:\s*\d')
_MATHSCINET_KEYS = re.compile(r'"(?:titles|entryType|primaryClass|paging|prePubl)"\s*:')


class MathSciNetSource(JsonItemsSource):
    name = "mathscinet-json"
    wrappers = ("results",)
    expected = "MathSciNet item object"
    description = 'MathSciNet API results: {"results": [{mrnumber, titles, authors, issue, ...}], "total": N}'

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        return head_start(head) in ("{", "[") and bool(_MRNUMBER.search(head)) and \
            len(set(_MATHSCINET_KEYS.findall(head))) >= 2

    def paper(self, ctx: ReadContext, item: dict[str, Any], line: int) -> Paper | Rejected:
        number = item.get("mrnumber")
        label = f"MathSciNet item MR{number}" if isinstance(number, int | str) else "MathSciNet item"
        return self.converted(ctx, line, label, lambda: paper_from_mathscinet(item),
                              f"MR{number}" if isinstance(number, int | str) else None)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def paper_from_mathscinet(item: dict[str, Any]) -> Paper:
    """One result item -> Paper (not finished). ValueError when it holds no paper."""
    titles = _dict(item.get("titles"))
    title = text_of(titles.get("title")) or text_of(titles.get("translatedTitle"))
    if not title:
        raise ValueError("has no title")
    people = item.get("authors")
    authors = [inverted_name(text_of(p.get("name"))) for p in people if isinstance(p, dict)] \
        if isinstance(people, list) else []
    issue = _dict(_dict(item.get("issue")).get("issue"))
    book = _dict(item.get("book"))
    venue = text_of(_dict(issue.get("journal")).get("shortTitle")) or text_of(_dict(issue.get("journal")).get("title"))
    if not venue:
        series = book.get("series")
        first = series[0] if isinstance(series, list) and series and isinstance(series[0], dict) else {}
        venue = text_of(first.get("title"))
    when = date_parts(issue.get("pubYear") or book.get("pubYear") or _dict(item.get("prePubl")).get("pubYear"))
    url = text_of(item.get("articleUrl"))
    extra: dict[str, Any] = {}
    for key, name in (("entryType", "mathscinet_type"), ("itemType", "mathscinet_item_type")):
        if text_of(item.get(key)):
            extra[name] = text_of(item.get(key))
    primary = _dict(item.get("primaryClass"))
    if text_of(primary.get("code")):
        extra["msc"] = text_of(primary.get("code"))
        if text_of(primary.get("description")):
            extra["msc_description"] = text_of(primary.get("description"))
    if url:
        extra["url"] = url
    return Paper(
        title=title, authors=[a for a in authors if a], venue=venue or None, year=when.year, date=when.iso,
        doi=doi_from_url(url), arxiv_id=find_arxiv_id(url), extra=extra,
    )
