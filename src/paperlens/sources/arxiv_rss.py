"""arXiv listing feeds (`arxiv-rss`): rss.arxiv.org RSS 2.0 and Atom, the older RSS 1.0 listings, and
custom RSS feeds whose items link to arxiv.org/abs.

rss.arxiv.org items carry `arxiv:announce_type` (new, cross, replace, replace-cross), `dc:creator`
("A, B and C") and a description "arXiv:2501.00001v1 Announce Type: new \\nAbstract: ...". The
pre-2024 RSS 1.0 listings put the id in the title ("Title. (arXiv:2401.00001v1 [cs.CL])") and HTML links
in dc:creator. Custom feeds (e.g. arxiv-to-rss) put an HTML description: a paragraph of authors, the
abstract, then labelled paragraphs ("Published:", "Comments:", ...). A feed is one document of at most
a few thousand items, parsed whole with feedparser; each item keeps the line its <item>/<entry> starts on.
`fetch_listing` downloads a category's feed and keeps the raw response as a file.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser

from paperlens.core.ids import normalize_arxiv_id
from paperlens.core.models import Paper
from paperlens.sources.arxiv_atom import MAX_NAME_WORD
from paperlens.sources.arxiv_bulk import date_from_id
from paperlens.sources.base import (
    BAD_BYTES,
    InputLimitError,
    ReadContext,
    Rejected,
    Source,
    finish_paper,
    has_bad_bytes,
    open_text,
    read_document,
)

ARXIV_LISTING = "https://rss.arxiv.org/rss"
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
_ATOM_NS = "http://www.w3.org/2005/Atom"
MAX_AUTHOR_CHARS = 20_000
# an author list this long, or one with a word longer than MAX_NAME_WORD (feedparser's e-mail regex is
# quadratic in a word's length: see arxiv_atom), also through a CDATA section. The attributes are bounded:
# `[^>]*` went to the end of the text for each of 20,000 `<dc:creator ` without a `>` (240 kB: 9.5 s).
_LONG_AUTHOR = re.compile(r"<(?:dc:creator|author|name|email|dc:contributor)(?:\s[^<>]{0,2000})?>(?:(?:[^<]|<!\[CDATA\[){"
                          + str(MAX_AUTHOR_CHARS) + r"}|(?:[^<]|<!\[CDATA\[)*?(?:(?<![^\s<>])|(?<=<!\[CDATA\[))[^\s<>]{" + str(MAX_NAME_WORD + 1)
                          + "})")
_ITEM_OPEN = re.compile(r"<(?:[\w.-]+:)?(?:item|entry)[\s>/]")
_ITEM_CLOSE = re.compile(r"</(?:[\w.-]+:)?(?:item|entry)\s*>")
_ROOT = re.compile(r"<(?:[\w.-]+:)?([\w.-]+)[\s>/]")
_ARXIV_REF = re.compile(r"(?:oai:arXiv\.org:|\barXiv:)\s*([\w.\-/]+?)(v\d+)?(?=$|[\s\]\),;])", re.I)
_ABS_LINK = re.compile(r"arxiv\.org/(?:abs|pdf)/")
_ANNOUNCE = re.compile(r"Announce Type:\s*([\w-]+)", re.I)
_ABSTRACT_MARK = re.compile(r"(?:^|\s)Abstract:\s*", re.I)
_OLD_CATEGORY = re.compile(r"\(arXiv:[^)\[]*\[([\w.\-]+)\][^)]*\)\s*$")
_OLD_TITLE = re.compile(r"\s*\(arXiv:[^)]*\)\s*$")
_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p\s*>", re.S | re.I)
_LABELLED = re.compile(r"^\s*<b>\s*([\w ]+?)\s*:\s*</b>\s*(.*)$", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_SUB_SUP = re.compile(r"<(sub|sup)>([^<]*)</\1>", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")
_VERSION = re.compile(r"v(\d+)$")
_PARSER_BUGS = (ValueError, TypeError, AttributeError, KeyError, IndexError)


def html_text(value: str) -> str:
    """Text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed."""
    if "<" in value:
        if "<su" in value:  # ξ<sub>ion</sub> -> ξ_ion, m<sup>2</sup> -> m^2 (as arXiv writes them in TeX)
            value = _SUB_SUP.sub(_sub_sup, value)
        value = _TAG.sub(" ", value)
    if "&" in value:
        value = html.unescape(value)
    return " ".join(value.split())


def _sub_sup(match: re.Match[str]) -> str:
    mark, text = "_" if match.group(1).lower() == "sub" else "^", html.unescape(match.group(2)).strip()
    return mark + (text if text.isalnum() else "{" + text + "}")


def split_authors(value: str) -> list[str]:
    """'A, B and C' / 'A, B, C' / 'A and B' -> names."""
    return [part.strip() for part in _AUTHOR_SPLIT.split(value) if part.strip()]


class ArxivRssSource(Source):
    name = "arxiv-rss"
    description = "arXiv listing feed (rss.arxiv.org RSS/Atom, or another RSS feed of arXiv papers)"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        root = _root(head)
        if root == "feed":  # Atom: only the listing feed, API responses are arxiv-atom
            return _ATOM_NS in head and ("announce_type" in head or "rss.arxiv.org" in head)
        if root in ("rss", "RDF"):
            return bool(_ABS_LINK.search(head)) or "rss.arxiv.org" in head or "announce_type" in head
        return False

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        try:
            with open_text(ctx.path) as handle:
                text = read_document(handle, ctx.path)  # bounded by PAPERLENS_MAX_DOCUMENT_BYTES
        except InputLimitError as exc:
            yield Rejected(ctx.path, 1, exc.message)
            return
        if has_bad_bytes(text):
            for number, line in enumerate(text.split("\n"), start=1):
                if has_bad_bytes(line):
                    yield Rejected(ctx.path, number, BAD_BYTES + "; "
                                                     "the feed is skipped")
                    return
        root = _root(text)
        if root not in ("rss", "RDF", "feed"):
            yield Rejected(ctx.path, 1, f"not an RSS or Atom feed: found {'<' + root + '>' if root else 'no XML'}")
            return
        if "\x00" in text:
            yield Rejected(ctx.path, text.count("\n", 0, text.index("\x00")) + 1, "NUL character in the XML; "
                                                                                   "the feed is skipped")
            return
        # Where each item opens and where the first close after it is, in one pass over each (an item left
        # open must not send a search to the end of the file per item: quadratic on hostile feeds).
        opens = [(m.start(), m.end()) for m in _ITEM_OPEN.finditer(text)]
        closes = [m.start() for m in _ITEM_CLOSE.finditer(text)]
        start_line, end_line = _LineCounter(text), _LineCounter(text)
        starts, ends, close_at, j = [], [], [], 0
        for begin, after in opens:
            starts.append(start_line(begin))
            while j < len(closes) and closes[j] < after:
                j += 1
            ends.append(end_line(closes[j]) if j < len(closes) else None)
            close_at.append(closes[j] if j < len(closes) else len(text))

        # feedparser's author parsing is quadratic in the length of a word in an author (50,000 characters: 19 s):
        # the feed is read up to the item that holds a longer one, as for an item opened inside another.
        long_author = _LONG_AUTHOR.search(text)
        nested, nested_reason = None, "an item opens inside one that is not closed; the rest of the feed is skipped"
        for i in range(1, len(opens)):
            if ends[i - 1] is None or close_at[i - 1] > opens[i][0]:
                nested = i
                break
        if long_author is not None:
            cut = next((i for i, (begin, _) in enumerate(opens) if begin > long_author.start()), len(opens)) - 1
            if cut >= 0 and (nested is None or cut < nested):
                nested, nested_reason = cut, (f"an author list longer than {MAX_AUTHOR_CHARS:,} characters or with a "
                                              f"word of more than {MAX_NAME_WORD} characters; the rest of the "
                                              "feed is skipped")
        if nested is not None:  # the feed is read up to there (feedparser is slow on piles of open tags)
            nested_line = starts[nested]
            text, starts, ends = text[:opens[nested][0]], starts[:nested], ends[:nested]
            if ends and nested_reason.startswith("an item opens"):
                ends[-1] = None  # the item left open
        try:
            feed = feedparser.parse(text.encode("utf-8"), sanitize_html=False, resolve_relative_uris=False)
        except _PARSER_BUGS as exc:
            yield Rejected(ctx.path, 1, f"cannot parse the XML ({type(exc).__name__}: {exc}); the feed is skipped")
            return
        feed_date = _date(feed.feed.get("published")) or _date(feed.feed.get("updated"))
        error = feed.get("bozo_exception") if feed.get("bozo") else None
        error_line = None
        if error is not None and hasattr(error, "getLineNumber"):
            last_line = text.count("\n", 0, len(text.rstrip())) + 1  # the last line with any content
            error_line = min(max(1, int(error.getLineNumber() or 1)), last_line)
            if nested is not None and error_line >= last_line:
                error_line = None  # the end of the text read, where it was cut: the items closed before it stand
        for index, entry in enumerate(feed.entries):
            line = starts[index] if index < len(starts) else 1
            if (error_line is not None or nested is not None) and (
                    index >= len(ends) or ends[index] is None or (error_line is not None and ends[index] >= error_line)):
                break  # items from the break on are not trusted
            try:
                yield self._entry(ctx, entry, line, feed_date)
            except _PARSER_BUGS as exc:
                yield Rejected(ctx.path, line, f"cannot read item ({type(exc).__name__}: {exc})")
        if nested is not None:
            yield Rejected(ctx.path, nested_line, nested_reason)
        elif error_line is not None:
            message = error.getMessage() if hasattr(error, "getMessage") else str(error)
            yield Rejected(ctx.path, error_line, f"malformed XML ({message}); the rest is skipped")

    def _entry(self, ctx: ReadContext, entry: Any, line: int, feed_date: str | None) -> Paper | Rejected:
        raw_title = entry.get("title", "") or ""
        description = entry.get("summary", "") or ""
        if not description and entry.get("content"):
            description = entry["content"][0].get("value", "") or ""
        arxiv_id, version = _arxiv_ref(entry.get("id", ""), entry.get("link", ""), description[:200], raw_title)
        if not arxiv_id:
            return Rejected(ctx.path, line, f"item has no arXiv id (link {str(entry.get('link', ''))[:60]!r})")
        extra: dict[str, Any] = {}
        if version:
            extra["arxiv_version"] = version
        announce = (entry.get("arxiv_announce_type") or "").strip().lower()
        if not announce:
            found = _ANNOUNCE.search(description[:300])
            announce = found.group(1).lower() if found else ""
        if announce:
            extra["announce_type"] = announce
        title = html_text(raw_title)
        if _OLD_TITLE.search(title):  # 'Title. (arXiv:2401.00001v1 [cs.CL])'
            title = _OLD_TITLE.sub("", title).removesuffix(".").strip()
        plain, labelled = _description(description)
        creators = [a.get("name", "") for a in entry.get("authors", []) if a.get("name")]
        names = [n for c in creators for n in split_authors(html_text(c))]
        # A custom feed lists the authors in the first paragraph (and often only the first one in <author>).
        if len(plain) >= 2 and (plain[0].startswith(names[0]) if names else _looks_like_names(plain[0])):
            names = split_authors(plain.pop(0))
        abstract = " ".join(plain)
        if not title and not abstract:
            return Rejected(ctx.path, line, "item has neither title nor abstract")
        categories = [t["term"] for t in entry.get("tags", []) if t.get("term")]
        old_style = _OLD_CATEGORY.search(raw_title)
        if not categories and old_style:  # '(arXiv:2311.10001v1 [cs.CL])'
            categories = [old_style.group(1)]
        published = _date(labelled.get("published"))
        updated = _date(labelled.get("updated"))
        announced = _date(entry.get("published")) or _date(entry.get("updated")) or feed_date
        if not published and announce.startswith("replace"):
            # the day a revision was announced is not the paper's date: the id's month is (2301.00001: 2023-01)
            published = date_from_id(arxiv_id) or announced
            updated = updated or announced
        published = published or announced
        if updated:
            extra["update_date"] = updated
        comment = labelled.get("comments") or entry.get("arxiv_comment")
        if comment:
            extra["comments"] = " ".join(comment.split())
        if labelled.get("pdf", "").startswith("http"):
            extra["pdf_url"] = labelled["pdf"].split()[0]
        if entry.get("rights"):
            extra["license"] = entry["rights"].strip()
        journal = entry.get("arxiv_journal_reference") or entry.get("arxiv_journal_ref") or ""
        paper = Paper(
            title=title, authors=names, abstract_raw=abstract, date=published,
            year=int(published[:4]) if published else None, categories=_dedupe(categories),
            doi=entry.get("arxiv_doi") or None, venue=" ".join(journal.split()) or None,
            arxiv_id=arxiv_id, extra=extra,
        )
        return finish_paper(paper, ctx, self.name, line, source_id=arxiv_id)


def _arxiv_ref(*texts: str) -> tuple[str | None, int | None]:
    """(arXiv id, version) from the first of `texts` that names one: 'oai:arXiv.org:2501.00001v1',
    'arXiv:2501.00001v1', an arxiv.org/abs link."""
    for value in texts:
        if not value or not isinstance(value, str):
            continue
        match = _ARXIV_REF.search(value)
        arxiv_id = normalize_arxiv_id(match.group(1) if match else value)
        if arxiv_id:
            found = match.group(2) if match else None
            if not match:
                tail = _VERSION.search(value.rstrip("/"))
                found = tail.group(0) if tail else None
            return arxiv_id, int(found[1:]) if found else None
    return None, None


def _looks_like_names(text: str) -> bool:
    """A paragraph that is a list of names: short parts (at most five words), no sentence end."""
    parts = split_authors(text)
    return bool(parts) and len(text) < 5000 and not text.endswith(".") and all(len(p.split()) <= 5 for p in parts)


def _description(value: str) -> tuple[list[str], dict[str, str]]:
    """(plain paragraphs, labelled paragraphs {'published': ...}) of an item's description."""
    paragraphs = _PARAGRAPH.findall(value) if "<p" in value.lower() else []
    if not paragraphs:
        text = html_text(value)
        mark = _ABSTRACT_MARK.search(text[:300])
        if mark and (_ANNOUNCE.search(text[:mark.start()]) or not text[:mark.start()].strip()):
            text = text[mark.end():]
        return ([text.strip()] if text.strip() else []), {}
    labelled: dict[str, str] = {}
    plain: list[str] = []
    for paragraph in paragraphs:
        match = _LABELLED.match(paragraph)
        if match:
            labelled[match.group(1).strip().lower()] = html_text(match.group(2))
        elif html_text(paragraph):
            plain.append(html_text(paragraph))
    return plain, labelled


def _root(text: str) -> str | None:
    body = re.sub(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", "", text[:4096], flags=re.S)
    match = _ROOT.search(body)
    return match.group(1) if match else None


def _date(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    try:
        if re.match(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return value[:10] if re.match(r"\d{4}-\d{2}-\d{2}", value) else None


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# ------------------------------------------------------------------------------------ fetching


def fetch_listing(categories: list[str], *, base_url: str = ARXIV_LISTING, save_dir: str | Path = "fetched",
                  timeout: float = 30.0) -> Path:
    """Download the listing feed of `categories` (rss.arxiv.org/rss/cs.CL+cs.AI) and save it; returns the file."""
    import httpx

    from paperlens.sources.arxiv_atom import FetchError

    names = [c.strip() for c in categories if c and c.strip()]
    if not names:
        raise FetchError("--new needs at least one --category (e.g. cs.CL)")
    bad = [c for c in names if not re.fullmatch(r"[A-Za-z-]+(?:\.[A-Za-z-]+)?", c)]
    if bad:
        raise FetchError(f"not an arXiv category: {bad[0]!r} (e.g. cs.CL, math.PR, hep-th)")
    url = base_url.rstrip("/") + "/" + "+".join(names)
    save_dir = Path(save_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    with httpx.Client(timeout=timeout, follow_redirects=True,
                      headers={"User-Agent": "paperlens (+https://github.com/paperlens)"}) as client:
        try:
            response = client.get(url)
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot reach {url}: {exc}") from exc
    if response.status_code != 200:
        raise FetchError(f"{response.url} answered HTTP {response.status_code}")
    save_dir.mkdir(parents=True, exist_ok=True)  # only now: a failed fetch leaves no empty folder behind
    path = save_dir / f"arxiv-listing-{'+'.join(names)}-{stamp}.xml"
    path.write_bytes(response.content)
    return path


__all__ = ["ANNOUNCE_TYPES", "ARXIV_LISTING", "ArxivRssSource", "fetch_listing", "html_text", "split_authors"]


class _LineCounter:
    """Line number (1-based) of positions asked in increasing order, counted on from the last one."""

    def __init__(self, text: str):
        self._text, self._pos, self._line = text, 0, 1

    def __call__(self, pos: int) -> int:
        self._line += self._text.count("\n", self._pos, pos)
        self._pos = pos
        return self._line
