"""EndNote XML (`endnote-xml`): `<xml><records><record>...` as EndNote, Bookends and others export it.
Read: `titles/title`, `titles/secondary-title` (else `periodical/full-title`) as venue,
`contributors/authors/author` ("Family, Given" turned around), `dates/year` and `dates/pub-dates/date`,
`abstract`, `keywords/keyword`, `electronic-resource-num` (the DOI), `urls/related-urls/url`;
`ref-type` and the URL in `extra`. Text sits in `<style>` wrappers, which are read through. Each record
keeps the line of its `<record>` tag. Parsing is safe (see xmlcommon).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

from paperlens.core.models import Paper
from paperlens.sources.base import ReadContext, Rejected, Source
from paperlens.sources.refcommon import (
    abstract_of,
    find_arxiv_id,
    find_doi,
    first_url,
    inverted_name,
    parse_date,
)
from paperlens.sources.xmlcommon import child, children, record_papers, root_name, text_of

_FULL_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")


class EndnoteXmlSource(Source):
    name = "endnote-xml"
    description = "EndNote XML export (<xml><records><record>...)"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        return root_name(head) == "xml" and "<records>" in head and "<record>" in head

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        return record_papers(ctx, self.name, lambda name, depth: name == "record", "EndNote", paper_from_endnote_xml,
                             lambda element: text_of(child(element, "rec-number")) or None, "EndNote XML record")


def _path(element: Element | None, *names: str) -> Element | None:
    for name in names:
        element = child(element, name)
    return element


def paper_from_endnote_xml(record: Element) -> Paper:
    """One <record> -> Paper (not finished). ValueError when it holds no paper."""
    titles = child(record, "titles")
    title = text_of(child(titles, "title"))
    abstract = abstract_of(text_of(child(record, "abstract")))
    if not title and not abstract:
        raise ValueError("EndNote XML record has neither title nor abstract")
    authors = [inverted_name(text_of(a)) for a in children(_path(record, "contributors", "authors"), "author")]
    dates = child(record, "dates")
    year = text_of(child(dates, "year"))
    when = parse_date(year)
    pub_date = text_of(_path(dates, "pub-dates", "date"))
    if pub_date:
        full = parse_date(pub_date if _FULL_YEAR.search(pub_date) or not year else f"{pub_date} {year}")
        if full.iso and (not when.year or full.year == when.year):
            when = full
    venue = text_of(child(titles, "secondary-title")) or text_of(_path(record, "periodical", "full-title"))
    urls = [text_of(u) for group in ("related-urls", "web-urls") for u in children(_path(record, "urls", group), "url")]
    doi_field = text_of(child(record, "electronic-resource-num"))
    doi = find_doi(doi_field, *urls)
    arxiv_id = find_arxiv_id(doi_field, *urls, text_of(child(record, "notes")))
    keywords = [text_of(k) for k in children(child(record, "keywords"), "keyword")]
    extra: dict[str, object] = {}
    ref_type = child(record, "ref-type")
    if ref_type is not None and ref_type.get("name"):
        extra["endnote_type"] = ref_type.get("name")
    url = first_url(urls)
    if url:
        extra["url"] = url
    return Paper(
        title=title, authors=[a for a in authors if a], abstract_raw=abstract, keywords=[k for k in keywords if k],
        venue=venue or None, year=when.year, date=when.iso, doi=doi, arxiv_id=arxiv_id, extra=extra,
    )
