"""CSL-JSON (`csl-json`): the citation items of citeproc, as Zotero, Better BibTeX ("Better CSL
JSON"), Pandoc (`pandoc -t csljson`) and Mendeley write them: a list of objects with a CSL `type`,
`title`, `author` [{family, given} or {literal}], `issued` {"date-parts": [[y, m, d]]},
`container-title`, `DOI`, `URL`, `abstract`, `keyword` ...

Items are decoded one at a time (see refcommon), each keeping the line its object starts on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from paperlens.core.ids import openreview_id_from
from paperlens.core.models import Paper
from paperlens.sources.base import ReadContext, Rejected
from paperlens.sources.refcommon import (
    DateParts,
    JsonItemsSource,
    abstract_of,
    csl_name,
    date_parts,
    doi_from_url,
    find_arxiv_id,
    find_doi,
    head_start,
    note_date,
    parse_date,
    rich_text,
    split_list,
    text_of,
)

# CSL 1.0.2 item types (and the older names some writers still use).
CSL_TYPES = (
    "article", "article-journal", "article-magazine", "article-newspaper", "bill", "book", "broadcast",
    "chapter", "classic", "collection", "dataset", "document", "entry", "entry-dictionary",
    "entry-encyclopedia", "event", "figure", "graphic", "hearing", "interview", "legal_case", "legislation",
    "manuscript", "map", "motion_picture", "musical_score", "pamphlet", "paper-conference", "patent",
    "performance", "periodical", "personal_communication", "post", "post-weblog", "regulation", "report",
    "review", "review-book", "software", "song", "speech", "standard", "thesis", "treaty", "webpage",
)
_TYPE = re.compile(r'"type"\s*:\s*"(?:' + "|".join(re.escape(t) for t in CSL_TYPES) + r')"')
# Keys only CSL writes (hyphenated variable names, name and date objects).
_CSL_KEY = re.compile(r'"(?:issued|date-parts|container-title|citation-key|publisher-place|collection-title|'
                      r'title-short|number-of-pages|family|non-dropping-particle|event-title)"\s*:')
_WRAPPER = re.compile(r'"(?:items|references)"\s*:\s*\[')
_NOT_CSL = re.compile(r'"(?:itemType|paperId|creators|message-type)"\s*:')


class CslJsonSource(JsonItemsSource):
    name = "csl-json"
    wrappers = ("items", "references")
    expected = "CSL item object"
    description = "CSL-JSON items (Zotero, Better BibTeX, Pandoc, Mendeley): a list of {type, title, author, issued, ...}"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        start = head_start(head)
        if start != "[" and not (start == "{" and _WRAPPER.search(head)):
            return False
        return bool(_TYPE.search(head)) and bool(_CSL_KEY.search(head)) and not _NOT_CSL.search(head)

    def paper(self, ctx: ReadContext, item: dict[str, Any], line: int) -> Paper | Rejected:
        source_id = text_of(item.get("id")) or text_of(item.get("citation-key")) or None
        return self.converted(ctx, line, f"CSL item {_label(item)}", lambda: paper_from_csl(item), source_id)


def _label(item: dict[str, Any]) -> str:
    key = item.get("id") or item.get("citation-key")
    return repr(key) if isinstance(key, str | int) else "(no id)"


def csl_date(value: Any) -> DateParts:
    """A CSL date: {"date-parts": [[y, m, d], ...]} (a range: its start), {"raw": ...}, {"literal": ...},
    or an EDTF-like string."""
    if isinstance(value, dict):
        parts = value.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            first = parts[0]
            return date_parts(*(first + [None, None])[:3])
        for key in ("raw", "literal"):
            if isinstance(value.get(key), str):
                return parse_date(value[key])
        return DateParts()
    return parse_date(value)


def paper_from_csl(item: dict[str, Any]) -> Paper:
    """One CSL item -> Paper (not finished). ValueError when it holds no paper."""
    title = rich_text(item.get("title"))
    abstract = abstract_of(item.get("abstract"))
    if not title and not abstract:
        raise ValueError("has neither title nor abstract")
    names = item.get("author")
    authors = [csl_name(p) for p in names] if isinstance(names, list) else []
    when, when_raw = csl_date(item.get("issued")), item.get("issued")
    if not when.year and item.get("original-date"):
        when, when_raw = csl_date(item.get("original-date")), item.get("original-date")
    # The journal, book or proceedings; else the conference (collection-title, a series, is no venue).
    venue = (rich_text(item.get("container-title")) or rich_text(item.get("event-title"))
             or (text_of(item.get("event")) if isinstance(item.get("event"), str) else ""))
    url = text_of(item.get("URL")) or text_of(item.get("url"))
    doi_field = text_of(item.get("DOI")) or text_of(item.get("doi"))
    doi = find_doi(doi_field) or doi_from_url(url)
    arxiv_id = find_arxiv_id(text_of(item.get("number")), url, text_of(item.get("note")), doi_field,
                             venue, text_of(item.get("publisher")), text_of(item.get("archive_location")))
    if not arxiv_id and text_of(item.get("archive")).lower() == "arxiv":
        arxiv_id = find_arxiv_id("arXiv:" + text_of(item.get("number")))
    extra: dict[str, Any] = {"csl_type": text_of(item.get("type"))} if text_of(item.get("type")) else {}
    if url:
        extra["url"] = url
    note_date(extra, when, when_raw)
    if doi_field and not find_doi(doi_field):
        extra["short_doi"] = doi_field  # e.g. "10/fqd6hj" (Better BibTeX writes shortDOIs when asked)
    openreview = openreview_id_from(url) if "openreview.net" in url else None
    return Paper(
        title=title, authors=[a for a in authors if a], abstract_raw=abstract,
        keywords=split_list(item.get("keyword")), venue=venue or None, year=when.year, date=when.iso,
        doi=doi, arxiv_id=arxiv_id, openreview_id=openreview, extra=extra,
    )
