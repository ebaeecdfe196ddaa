"""MODS XML (`mods-xml`, Library of Congress Metadata Object Description Schema): a `<modsCollection>`
of `<mods>` records, or one `<mods>`. Read: `titleInfo` (title and subTitle; abbreviated, translated
and alternative titles only when there is no other), personal `name`s with role author (or no role;
editors go to `extra`), `originInfo/dateIssued` (else the host's), `abstract`, `subject/topic`
keywords, `identifier` doi / uri / arxiv, `location/url`, and the host `relatedItem`'s title as venue.
Each record keeps the line of its `<mods>` tag. Parsing is safe (see xmlcommon).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

from paperlens.core.models import Paper
from paperlens.sources.base import ReadContext, Rejected, Source
from paperlens.sources.refcommon import (
    DateParts,
    abstract_of,
    find_arxiv_id,
    find_doi,
    first_url,
    inverted_name,
    parse_date,
)
from paperlens.sources.xmlcommon import child, children, local, record_papers, root_name, text_of


class ModsSource(Source):
    name = "mods-xml"
    description = "MODS XML records (<modsCollection><mods>...), as library catalogues and Zotero export them"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        return root_name(head) in ("modsCollection", "mods") and ("loc.gov/mods" in head or "<titleInfo" in head)

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        return record_papers(ctx, self.name, lambda name, depth: name == "mods", "MODS", paper_from_mods,
                             lambda element: element.get("ID") or None, "MODS record")


def _title(element: Element) -> str:
    infos = children(element, "titleInfo")
    infos.sort(key=lambda info: info.get("type") is not None)  # the main title (no type) first
    for info in infos:
        title = " ".join(t for t in (text_of(child(info, "nonSort")), text_of(child(info, "title"))) if t)
        sub = text_of(child(info, "subTitle"))
        if title:
            return f"{title}: {sub}" if sub else title
    return ""


def _name(name: Element) -> str:
    parts = {part.get("type"): text_of(part) for part in children(name, "namePart")}
    given, family = parts.get("given", ""), parts.get("family", "")
    if given or family:
        text = " ".join(p for p in (given, family) if p)
        return f"{text} {parts['termsOfAddress']}" if parts.get("termsOfAddress") else text
    plain = [text_of(p) for p in children(name, "namePart") if p.get("type") in (None, "")]
    return inverted_name(" ".join(p for p in plain if p)) or text_of(child(name, "displayForm"))


def _roles(name: Element) -> set[str]:
    return {text_of(term).lower() for role in children(name, "role") for term in children(role, "roleTerm")}


def _date(element: Element | None) -> DateParts:
    if element is None:
        return DateParts()
    for info in children(element, "originInfo"):
        for key in ("dateIssued", "copyrightDate", "dateCreated"):
            dates = children(info, key)
            dates.sort(key=lambda d: d.get("encoding") is None)  # an encoded (w3cdtf / iso8601) date first
            for value in dates:
                when = parse_date(text_of(value))
                if when.year:
                    return when
    part = child(element, "part")
    return parse_date(text_of(child(part, "date"))) if part is not None else DateParts()


def paper_from_mods(element: Element) -> Paper:
    """One <mods> element -> Paper (not finished). ValueError when it holds no paper."""
    title = _title(element)
    abstract = abstract_of(" ".join(text_of(a) for a in children(element, "abstract")))
    if not title and not abstract:
        raise ValueError("MODS record has neither title nor abstract")
    authors, editors = [], []
    for name in children(element, "name"):
        if name.get("type") not in (None, "personal"):
            continue
        roles = _roles(name)
        text = _name(name)
        if not text:
            continue
        if not roles or roles & {"author", "aut", "creator", "cre"}:
            authors.append(text)
        elif roles & {"editor", "edt"}:
            editors.append(text)
    hosts = [r for r in children(element, "relatedItem") if r.get("type") == "host"]
    host = hosts[0] if hosts else None
    when = _date(element)
    if not when.year:
        when = _date(host)
    identifiers = {}
    for identifier in children(element, "identifier"):
        identifiers.setdefault((identifier.get("type") or "").lower(), text_of(identifier))
    urls = [text_of(u) for loc in children(element, "location") for u in children(loc, "url")]
    urls += [identifiers[k] for k in ("uri", "url") if identifiers.get(k)]
    doi = find_doi(identifiers.get("doi", ""), *urls)
    arxiv_id = find_arxiv_id(*(f"arXiv:{identifiers[k]}" for k in ("arxiv", "arxiv_id") if identifiers.get(k)),
                             *urls, identifiers.get("doi", ""))
    keywords = [text_of(topic) for subject in children(element, "subject") for topic in subject
                if local(topic.tag) == "topic" and text_of(topic)]
    extra: dict[str, object] = {}
    genre = text_of(child(element, "genre"))
    if genre:
        extra["genre"] = genre
    if editors:
        extra["editors"] = editors
    url = first_url(urls)
    if url:
        extra["url"] = url
    return Paper(
        title=title, authors=authors, abstract_raw=abstract, keywords=keywords,
        venue=(_title(host) if host is not None else "") or None, year=when.year, date=when.iso,
        doi=doi, arxiv_id=arxiv_id, extra=extra,
    )
