"""Zotero RDF (`zotero-rdf`): Zotero's own RDF/XML export (File > Export Library > "Zotero RDF"). Each
child of `<rdf:RDF>` with a `z:itemType` other than attachment or note is an item: `dc:title`,
`bib:authors` (an `rdf:Seq` of `foaf:Person` with `foaf:givenName` / `foaf:surname`), `dc:date`,
`dcterms:abstract`, `dc:subject` (plain or `z:AutomaticTag`) keywords, `dc:identifier` ("DOI 10.…",
or a `dcterms:URI` link), the title of the journal / book / proceedings it `dcterms:isPartOf` (inline,
or a resource described earlier in the file) or the conference it was `bib:presentedAt`. Attachments,
notes (`bib:Memo`) and the journals themselves are not papers and are passed over. Each item keeps the
line of its element. Parsing is safe (see xmlcommon).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

from paperlens.core.models import Paper
from paperlens.sources.base import ReadContext, Rejected, Source
from paperlens.sources.refcommon import (
    abstract_of,
    find_arxiv_id,
    find_doi,
    finish_or_reject,
    first_url,
    parse_date,
)
from paperlens.sources.xmlcommon import child, children, iter_records, local, root_name, text_of

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_NOT_PAPERS = {"attachment", "note"}
_GIVEN = ("givenName", "givenname", "firstName", "firstname")
_FAMILY = ("surname", "familyName", "lastName", "family_name")


class ZoteroRdfSource(Source):
    name = "zotero-rdf"
    description = "Zotero RDF export (<rdf:RDF> of bib:Article, bib:Book, ... with z:itemType)"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        return root_name(head) == "RDF" and "zotero.org/namespaces/export" in head

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        titles: dict[str, str] = {}  # rdf:about of journals, books, conferences seen so far -> title
        for item in iter_records(ctx, lambda name, depth: depth == 1, "Zotero RDF"):
            if isinstance(item, Rejected):
                yield item
                continue
            element, line = item
            about = element.get(f"{RDF}about") or ""
            kind = text_of(child(element, "itemType"))
            if not kind:
                if about and text_of(child(element, "title")):
                    titles[about] = text_of(child(element, "title"))
                continue
            if kind in _NOT_PAPERS:
                continue
            try:
                paper = paper_from_zotero_rdf(element, titles)
            except ValueError as exc:
                yield Rejected(ctx.path, line, str(exc))
                continue
            yield finish_or_reject(paper, ctx, self.name, line, about or None, "Zotero RDF item")


def _person(person: Element) -> str:
    given = next((text_of(child(person, k)) for k in _GIVEN if text_of(child(person, k))), "")
    family = next((text_of(child(person, k)) for k in _FAMILY if text_of(child(person, k))), "")
    return " ".join(p for p in (given, family) if p) or text_of(child(person, "name"))


def _people(element: Element, role: str) -> list[str]:
    names = []
    for group in children(element, role):
        for person in group.iter():
            if local(person.tag) == "Person":
                name = _person(person)
                if name:
                    names.append(name)
    return names


def _container_title(link: Element, titles: dict[str, str]) -> str:
    resource = link.get(f"{RDF}resource")
    if resource:
        return titles.get(resource, "")
    for node in link:
        title = text_of(child(node, "title"))
        if title:
            return title
    return ""


def paper_from_zotero_rdf(element: Element, titles: dict[str, str]) -> Paper:
    """One Zotero RDF item -> Paper (not finished). ValueError when it holds no paper."""
    title = text_of(child(element, "title"))
    abstract = abstract_of(text_of(child(element, "abstract")))
    if not title and not abstract:
        raise ValueError("Zotero RDF item has neither title nor abstract")
    when = parse_date(text_of(child(element, "date")))
    identifiers, urls = [], []
    for identifier in element.iter():
        if local(identifier.tag) != "identifier":
            continue
        uri = child(identifier, "URI")
        if uri is not None:
            urls.append(text_of(child(uri, "value")) or text_of(uri))
        elif text_of(identifier):
            identifiers.append(text_of(identifier))
    dois = [i[4:] if i.upper().startswith("DOI ") else i for i in identifiers]
    doi = find_doi(*dois, *urls)
    descriptions = [text_of(d) for d in children(element, "description")]
    arxiv_id = find_arxiv_id(*urls, *identifiers, *descriptions, text_of(child(element, "number")))
    venue = ""
    for link in children(element, "isPartOf") + children(element, "presentedAt"):
        venue = _container_title(link, titles)
        if venue:
            break
    keywords = []
    for subject in children(element, "subject"):
        tag = child(subject, "AutomaticTag")
        keywords.append(text_of(child(tag, "value")) if tag is not None else text_of(subject))
    extra: dict[str, object] = {"zotero_type": text_of(child(element, "itemType"))}
    url = first_url(urls)
    if url:
        extra["url"] = url
    editors = _people(element, "editors")
    if editors:
        extra["editors"] = editors
    return Paper(
        title=title, authors=_people(element, "authors"), abstract_raw=abstract,
        keywords=[k for k in keywords if k], venue=venue or None, year=when.year, date=when.iso,
        doi=doi, arxiv_id=arxiv_id, extra=extra,
    )
