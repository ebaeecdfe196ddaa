"""Semantic Scholar Graph API paper JSON (`s2-json`): what `api.semanticscholar.org/graph/v1` returns
for papers, saved as it came:

- one paper (`/paper/{id}`), a list of papers (`POST /paper/batch`: `null` where an id was not found),
  or one paper object per line;
- `{"data": [...]}` pages of search, bulk search, author papers, and `/paper/{id}/references` or
  `/citations` (items wrapped as `{"citedPaper": {...}}` / `{"citingPaper": {...}}`);
- an author (`/author/{id}?fields=papers...`) with its `papers`.

Fields: `title`, `abstract`, `authors` [{name}], `year`, `publicationDate`, `venue` (else `journal.name`,
else `publicationVenue.name`), `externalIds` {DOI, ArXiv, ...}, `tldr.text`, `openAccessPdf.url`,
`url`, `fieldsOfStudy`. A paper the response gives without title and abstract (the request did not ask
for them) is reported, not stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from paperlens.core.models import Paper
from paperlens.sources.base import BAD_BYTES, ReadContext, Rejected, Source
from paperlens.sources.refcommon import (
    JsonRecord,
    abstract_of,
    bad_bytes_in,
    find_arxiv_id,
    find_doi,
    finish_or_reject,
    head_start,
    iter_json_records,
    parse_date,
    read_json_text,
    split_list,
    text_of,
)

_PAPER_ID = re.compile(r'"paperId"\s*:\s*(?:"[0-9a-f]{40}"|null)')
_WRAPPED = ("citedPaper", "citingPaper", "paper")


class SemanticScholarSource(Source):
    name = "s2-json"
    description = 'Semantic Scholar Graph API papers: a paper, a list (batch), {"data": [...]}, or an author with papers'

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        return head_start(head) in ("{", "[") and bool(_PAPER_ID.search(head))

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        text = read_json_text(ctx)
        if isinstance(text, Rejected):
            yield text
            return
        for record in iter_json_records(ctx, text, wrappers=("data", "papers")):
            if isinstance(record, Rejected):
                yield record
                continue
            value = record.value
            # An author (of an author search page) carries its papers: each is a record.
            if isinstance(value, dict) and "paperId" not in value and isinstance(value.get("papers"), list):
                for paper in value["papers"]:
                    yield self._paper(ctx, text, record, paper)
                continue
            yield self._paper(ctx, text, record, value)

    def _paper(self, ctx: ReadContext, text: str, record: JsonRecord, value: Any) -> Paper | Rejected:
        line = record.line
        if value is None:
            return Rejected(ctx.path, line, f"item {record.index} is null: Semantic Scholar found no paper "
                                            "for the id asked at that position")
        if isinstance(value, dict) and "paperId" not in value:  # {"citedPaper": {...}} of references
            key = next((k for k in _WRAPPED if k in value), None)
            if key:
                value = value[key]
                if value is None:
                    return Rejected(ctx.path, line, f"item {record.index}: {key} is null")
        if not isinstance(value, dict):
            return Rejected(ctx.path, line, f"expected a paper object, found {type(value).__name__}")
        if bad_bytes_in(text, record):
            return Rejected(ctx.path, line, BAD_BYTES)
        paper_id = value.get("paperId") if isinstance(value.get("paperId"), str) else None
        try:
            paper = paper_from_s2(value)
        except (ValueError, TypeError, AttributeError) as exc:
            return Rejected(ctx.path, line, f"paper {paper_id or '(no paperId)'}: {exc}")
        return finish_or_reject(paper, ctx, self.name, line, paper_id, f"paper {paper_id or '(no paperId)'}")


def _name(value: Any) -> str:
    return text_of(value.get("name")) if isinstance(value, dict) else ""


def paper_from_s2(data: dict[str, Any]) -> Paper:
    """One Graph API paper object -> Paper (not finished). ValueError when it holds no paper."""
    title = text_of(data.get("title"))
    abstract = abstract_of(data.get("abstract"))
    if not title and not abstract:
        raise ValueError("has neither title nor abstract (ask the API for fields=title,abstract)")
    authors = data.get("authors")
    ids = data.get("externalIds") if isinstance(data.get("externalIds"), dict) else {}
    doi_field = ids.get("DOI")
    arxiv_field = ids.get("ArXiv")
    doi = find_doi(doi_field) if isinstance(doi_field, str) else None
    arxiv_id = find_arxiv_id(f"arXiv:{arxiv_field}" if isinstance(arxiv_field, str) else "", doi_field)
    when = parse_date(data.get("publicationDate"))
    year = data.get("year") if isinstance(data.get("year"), int) and not isinstance(data.get("year"), bool) else None
    if year is not None and not 1000 <= year <= 2200:
        year = None
    year = year or when.year
    venue = text_of(data.get("venue")) or _name(data.get("journal")) or _name(data.get("publicationVenue"))
    tldr = data.get("tldr")
    extra: dict[str, Any] = {}
    for key, value in (("url", data.get("url")), ("pdf_url", (data.get("openAccessPdf") or {}).get("url")
                                                  if isinstance(data.get("openAccessPdf"), dict) else None)):
        if isinstance(value, str) and value.strip():
            extra[key] = value.strip()
    fields = split_list(data.get("fieldsOfStudy"))
    if fields:
        extra["fields_of_study"] = fields
    for key, name in (("citationCount", "citation_count"), ("corpusId", "s2_corpus_id")):
        if isinstance(data.get(key), int) and not isinstance(data.get(key), bool):
            extra[name] = data[key]
    if when.iso and when.year != year:  # S2's year and publicationDate disagree now and then: keep both apart
        extra["publication_date"] = when.iso
    return Paper(
        title=title, abstract_raw=abstract, year=year, date=when.iso if when.year == year else None,
        authors=[_name(a) for a in authors] if isinstance(authors, list) else [],
        venue=venue or None, doi=doi, arxiv_id=arxiv_id,
        tldr=text_of(tldr.get("text")) or None if isinstance(tldr, dict) else None, extra=extra,
    )
