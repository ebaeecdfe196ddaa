"""Zotero Better BibTeX JSON (`zotero-bbt-json`): the "BetterBibTeX JSON" export of a Zotero library,
`{"config": {...}, "items": [...], "collections": ...}`, each item in Zotero's own field names
(`itemType`, `title`, `creators` [{creatorType, firstName, lastName} or {name}], `date`,
`publicationTitle`, `abstractNote`, `DOI`, `url`, `extra`, `tags` [{tag}] ...).

The arXiv id comes from `extra` ("arXiv: 1305.4904", as Zotero's arXiv translator writes it), from
`archiveID`, an arXiv URL or DOI; a `publicationTitle` that is only "arXiv:1305.4904 [quant-ph]" is
no venue, its bracket gives the category. Standalone notes and attachments are not papers: they are
reported, not stored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from paperlens.core.ids import normalize_category, openreview_id_from
from paperlens.core.models import Paper
from paperlens.sources.base import ReadContext, Rejected
from paperlens.sources.refcommon import (
    JsonItemsSource,
    abstract_of,
    doi_from_url,
    find_arxiv_id,
    find_doi,
    head_start,
    parse_date,
    rich_text,
    text_of,
)

_ITEMS = re.compile(r'"items"\s*:\s*\[')
_ITEM_TYPE = re.compile(r'"itemType"\s*:\s*"')
_ARXIV_VENUE = re.compile(r"^arxiv:\s*\S+\s*(?:\[([^\]]+)\])?\s*$", re.I)
_VENUE_FIELDS = ("publicationTitle", "proceedingsTitle", "conferenceName", "bookTitle", "websiteTitle",
                 "blogTitle", "forumTitle", "encyclopediaTitle", "dictionaryTitle", "programTitle", "seriesTitle")
_NOT_PAPERS = {"note", "attachment", "annotation"}
# Creators who did not write the work (editors, translators, ...): authors only when nobody else is listed.
_NOT_AUTHORS = {"editor", "seriesEditor", "translator", "contributor", "reviewedAuthor", "bookAuthor", "counsel",
                "commenter", "cosponsor", "wordsBy", "castMember", "guest"}


class ZoteroBbtJsonSource(JsonItemsSource):
    name = "zotero-bbt-json"
    wrappers = ("items",)
    description = 'Zotero Better BibTeX JSON export: {"config": ..., "items": [{"itemType": ...}, ...]}'

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        return head_start(head) == "{" and bool(_ITEMS.search(head)) and bool(_ITEM_TYPE.search(head))

    def check(self, item: Any) -> str | None:
        if isinstance(item, dict) and "itemType" in item:
            return None
        found = "an object without itemType" if isinstance(item, dict) else type(item).__name__
        return f"expected a Zotero item, found {found}"

    def paper(self, ctx: ReadContext, item: dict[str, Any], line: int) -> Paper | Rejected:
        label = text_of(item.get("citationKey")) or text_of(item.get("key")) or str(item.get("itemID", "")) or None
        kind = text_of(item.get("itemType"))
        if kind in _NOT_PAPERS:
            return Rejected(ctx.path, line, f"Zotero {kind} {label or ''}".rstrip() + " is not a paper; skipped")
        return self.converted(ctx, line, f"Zotero item {label or '(no key)'}", lambda: paper_from_zotero(item), label)


def extra_fields(extra: Any) -> dict[str, str]:
    """Zotero's `extra` ("arXiv: 1305.4904\\nCitation Key: x"; older BBT: a list of such lines) ->
    {lowercased key: value}; the first of a repeated key is kept."""
    lines = extra if isinstance(extra, list) else str(extra or "").split("\n")
    fields: dict[str, str] = {}
    for line in lines:
        if isinstance(line, str) and ":" in line:
            key, value = line.split(":", 1)
            fields.setdefault(key.strip().lower(), value.strip())
    return fields


def _creator(person: Any) -> tuple[str, str]:
    if not isinstance(person, dict):
        return "", ""
    role = text_of(person.get("creatorType")) or "author"
    name = text_of(person.get("name"))
    if not name:
        name = " ".join(p for p in (text_of(person.get("firstName")), text_of(person.get("lastName"))) if p)
    return role, " ".join(name.split())


def paper_from_zotero(item: dict[str, Any]) -> Paper:
    """One Zotero item (BBT JSON) -> Paper (not finished). ValueError when it holds no paper."""
    title = rich_text(item.get("title"))
    abstract = abstract_of(item.get("abstractNote"))
    if not title and not abstract:
        raise ValueError("has neither title nor abstract")
    listed = item.get("creators")
    creators = [_creator(p) for p in listed] if isinstance(listed, list) else []
    authors = [name for role, name in creators if name and role == "author"]
    if not authors:  # the primary creator of other types: inventor, presenter, programmer, artist, ...
        authors = [name for role, name in creators if name and role not in _NOT_AUTHORS]
    extra = extra_fields(item.get("extra"))
    when = parse_date(text_of(item.get("date")) or extra.get("issued") or extra.get("original-date"))
    venue = next((rich_text(item.get(f)) for f in _VENUE_FIELDS if text_of(item.get(f))), "")
    categories: list[str] = []
    arxiv_venue = _ARXIV_VENUE.match(venue)
    if arxiv_venue:  # "arXiv:1305.4904 [quant-ph]" names the preprint, not a venue
        venue = ""
        if arxiv_venue.group(1):
            categories = [normalize_category(arxiv_venue.group(1))]
    url = text_of(item.get("url"))
    doi = find_doi(text_of(item.get("DOI")), extra.get("doi", "")) or doi_from_url(url)
    arxiv_id = find_arxiv_id(
        "arXiv:" + extra["arxiv"] if extra.get("arxiv") else "", text_of(item.get("archiveID")), url,
        text_of(item.get("DOI")), text_of(item.get("publicationTitle")), text_of(item.get("number")),
        text_of(item.get("extra")) if isinstance(item.get("extra"), str) else "",
    )
    tags = item.get("tags")
    keywords = [text_of(t.get("tag") if isinstance(t, dict) else t) for t in tags] if isinstance(tags, list) else []
    info: dict[str, Any] = {"zotero_type": text_of(item.get("itemType"))}
    if url:
        info["url"] = url
    openreview = openreview_id_from(url) if "openreview.net" in url else None
    return Paper(
        title=title, authors=authors, abstract_raw=abstract, keywords=[k for k in keywords if k],
        venue=venue or None, year=when.year, date=when.iso, doi=doi, arxiv_id=arxiv_id,
        openreview_id=openreview, categories=categories, extra=info,
    )
