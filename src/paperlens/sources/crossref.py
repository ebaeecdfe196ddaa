"""Crossref REST API works (`crossref-json`): a response of `/works/{doi}`
(`{"status": "ok", "message-type": "work", "message": {...}}`), of a `/works?query=...` search
(`"message-type": "work-list"`, the works under `message.items`), or a bare list / `{"items": [...]}`
of work objects as the Crossref public data files hold them.

A work has `title` [..], `author` [{given, family} or {name}], `issued` / `published` {date-parts},
`container-title` [..], `DOI`, `abstract` (JATS XML: its tags are stripped), `subject` [..].
Works are decoded one at a time (see refcommon), each keeping the line its object starts on (an API
body is one line, so all its works are on line 1).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from paperlens.core.models import Paper
from paperlens.sources.base import ReadContext, Rejected
from paperlens.sources.csl_json import csl_date
from paperlens.sources.refcommon import (
    DateParts,
    JsonItemsSource,
    JsonRecord,
    _decode,
    _LineCounter,
    _object,
    abstract_of,
    csl_name,
    find_arxiv_id,
    find_doi,
    head_start,
    split_list,
    text_of,
)

_ENVELOPE = re.compile(r'"message-type"\s*:\s*"work(?:-list)?"')
# Keys only Crossref's work objects carry (CSL-JSON and the others have none of them).
_CROSSREF_KEYS = re.compile(r'"(?:is-referenced-by-count|reference-count|references-count|content-domain|'
                            r'short-container-title|published-print|published-online)"\s*:')
_TAG = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>")
_JATS_TITLE = re.compile(r"<(?:jats:)?title\b[^<>]*>[^<]*</(?:jats:)?title\s*>", re.I)
_PARAGRAPH = re.compile(r"</?(?:jats:)?(?:p|sec|title)\b[^<>]*>|<br\s*/?>", re.I)
_WS = re.compile(r"[ \t\n\r]*")
_DATE_KEYS = ("issued", "published", "published-print", "published-online", "created")


def strip_markup(text: str) -> str:
    """Text of a JATS / HTML fragment: tags dropped (paragraphs kept apart), entities decoded, the
    'Abstract' heading JATS abstracts often begin with removed."""
    if "<" not in text and "&" not in text:
        return " ".join(text.split())
    text = _JATS_TITLE.sub(lambda m: "" if _TAG.sub("", m.group(0)).strip().lower().rstrip(":.") in
                           ("abstract", "summary", "background") else m.group(0), text)
    text = _PARAGRAPH.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    paragraphs = [" ".join(p.split()) for p in text.split("\n")]
    return "\n".join(p for p in paragraphs if p)


class CrossrefSource(JsonItemsSource):
    name = "crossref-json"
    wrappers = ("items",)
    expected = "Crossref work object"
    description = 'Crossref REST API works: {"message-type": "work" | "work-list", "message": {...}} or a list of works'

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        start = head_start(head)
        if start not in ("{", "["):
            return False
        if _ENVELOPE.search(head) and '"message"' in head:
            return True
        # A bare list of works: at least two keys only Crossref writes, and a DOI.
        return len(set(_CROSSREF_KEYS.findall(head))) >= 2 and '"DOI"' in head

    def records(self, ctx: ReadContext, text: str) -> Iterator[JsonRecord | Rejected]:
        return _envelope_records(ctx, text) if _ENVELOPE.search(text[:65536]) else super().records(ctx, text)

    def paper(self, ctx: ReadContext, work: dict[str, Any], line: int) -> Paper | Rejected:
        label = f"Crossref work {text_of(work.get('DOI')) or '(no DOI)'}"
        return self.converted(ctx, line, label, lambda: paper_from_crossref(work), lambda paper: paper.doi)


def _envelope_records(ctx: ReadContext, text: str) -> Iterator[JsonRecord | Rejected]:
    """The works of an API envelope: `message` itself (a work) or the items of `message.items`."""
    import json

    decoder = json.JSONDecoder()
    lines = _LineCounter(text)
    pos = _WS.match(text, 0).end()
    if not text.startswith("{", pos):
        yield Rejected(ctx.path, 1, "expected a Crossref API response object")
        return
    pos = _WS.match(text, pos + 1).end()
    while pos < len(text) and text[pos] != "}":
        key = _decode(ctx, text, pos, decoder, lines) if text.startswith('"', pos) else None
        if not isinstance(key, tuple):
            yield key or Rejected(ctx.path, lines.at(pos), "invalid JSON: expected a key; the rest of the file is skipped")
            return
        name, pos = key
        pos = _WS.match(text, pos).end()
        if not text.startswith(":", pos):
            yield Rejected(ctx.path, lines.at(pos), "invalid JSON: expected ':'; the rest of the file is skipped")
            return
        pos = _WS.match(text, pos + 1).end()
        if name == "message" and text.startswith("{", pos):
            pos = yield from _object(ctx, text, pos, decoder, lines, ("items",))
            if pos is None:
                return
        else:
            decoded = _decode(ctx, text, pos, decoder, lines)
            if isinstance(decoded, Rejected):
                yield decoded
                return
            pos = decoded[1]
        pos = _WS.match(text, pos).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
        elif not text.startswith("}", pos):
            yield Rejected(ctx.path, lines.at(pos), "invalid JSON: expected ',' or '}'; the rest of the file is skipped")
            return


def _when(work: dict[str, Any]) -> DateParts:
    """The issue date (`issued`), else the first of published / print / online / created with a year;
    a later key with more parts of the same year gives the full date."""
    found = [csl_date(work[key]) for key in _DATE_KEYS if isinstance(work.get(key), dict)]
    found = [d for d in found if d.year]
    if not found:
        return DateParts()
    year = found[0].year
    fuller = [d for d in found if d.year == year and d.iso]
    fuller.sort(key=lambda d: len(d.iso or ""), reverse=True)
    return fuller[0] if fuller and len(fuller[0].iso or "") > len(found[0].iso or "") else found[0]


def paper_from_crossref(work: dict[str, Any]) -> Paper:
    """One Crossref work -> Paper (not finished). ValueError when it holds no paper."""
    title = strip_markup(text_of(work.get("title")))
    abstract = abstract_of(strip_markup(text_of(work.get("abstract"))))
    if not title and not abstract:
        raise ValueError("has neither title nor abstract")
    people = work.get("author")
    authors = []
    for person in people if isinstance(people, list) else []:
        if isinstance(person, dict) and not (person.get("given") or person.get("family")) and person.get("name"):
            person = {"literal": person.get("name")}
        authors.append(csl_name(person))
    when = _when(work)
    venue = strip_markup(text_of(work.get("container-title"))) or \
        strip_markup(text_of((work.get("event") or {}).get("name") if isinstance(work.get("event"), dict) else ""))
    doi = find_doi(text_of(work.get("DOI"))) or find_doi(text_of(work.get("URL")))
    arxiv_id = find_arxiv_id(text_of(work.get("DOI")), text_of(work.get("URL")))
    extra: dict[str, Any] = {}
    for key, name in (("type", "crossref_type"), ("publisher", "publisher"), ("URL", "url")):
        value = text_of(work.get(key))
        if value:
            extra[name] = value
    return Paper(
        title=title, authors=[a for a in authors if a], abstract_raw=abstract,
        keywords=split_list(work.get("subject")), venue=venue or None, year=when.year, date=when.iso,
        doi=doi, arxiv_id=arxiv_id, extra=extra,
    )
