"""Templates, links and the small text helpers both the server and the static site render with.

Everything a paper says is untrusted: Jinja2 autoescapes every value, and highlighting escapes the
text first and only then wraps matches in <mark>."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from paperlens.core import highlight as core_highlight
from paperlens.core.clean import repo_name, slugify
from paperlens.core.models import SUMMARY_FIELDS, SUMMARY_LABELS, Paper
from paperlens.store import keyword_norm
from paperlens.web.brief import display_title, rating, title_origin

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def highlight(text: str | None, terms: list[str]) -> Markup:
    """Escape `text`, marking the terms (paperlens.core.highlight: the one highlighter)."""
    return Markup(core_highlight.highlight(text, terms))


def snippet(text: str | None, terms: list[str], width: int = 320) -> Markup:
    """A window of `text` around the first match, highlighted."""
    return Markup(core_highlight.snippet(text, terms, width))


def safe_href(url: str | None) -> str:
    """`url` when it is an absolute http(s) link, else '' (never a `javascript:`, `data:` or `vbscript:`
    link, nor one whose scheme hides behind control characters or entities: browsers strip those)."""
    text = (url or "").strip()
    if not text or len(text) > 2000 or any(ord(ch) < 32 or ch in "\x7f\\" for ch in text):
        return ""
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return text


def format_date(paper: Paper) -> str:
    if paper.date:
        try:
            if len(paper.date) == 10:
                return date.fromisoformat(paper.date).strftime("%b %-d, %Y")
            if len(paper.date) == 7:
                return date.fromisoformat(paper.date + "-01").strftime("%b %Y")
        except ValueError:
            return paper.date
        return paper.date
    return str(paper.year) if paper.year else ""


def safe_segment(value: str, max_len: int = 80) -> str:
    """One path segment for a static file: word characters, '-', '_' and '.'; never '..' or empty.
    Changed or shortened names get a hash suffix so two values never share a segment."""
    text = unicodedata.normalize("NFKC", value)
    clean = re.sub(r"[^\w.-]+", "-", text, flags=re.UNICODE).strip("-.")
    clean = re.sub(r"\.{2,}", ".", clean)
    if clean != value or len(clean) > max_len or not clean:
        digest = hashlib.sha1(value.encode("utf-8")).hexdigest()[:8]
        clean = f"{clean[:max_len].rstrip('-.')}-{digest}" if clean else digest
    return clean


class Links:
    """URLs for the live server: absolute paths with query strings."""

    dynamic = True

    def __init__(self, query: dict[str, str] | None = None):
        self.query = query or {}

    def home(self) -> str:
        return "/"

    def topic(self, slug: str, page: int = 1) -> str:
        return f"/topics/{quote(slug, safe='')}" + (f"?page={page}" if page > 1 else "")

    def paper(self, pid: str) -> str:
        return f"/papers/{quote(pid, safe=':')}"

    def author(self, slug: str) -> str:
        return f"/authors/{quote(slug, safe='')}"

    def tag(self, norm: str, page: int = 1) -> str:
        return f"/tags/{quote(norm, safe='')}" + (f"?page={page}" if page > 1 else "")

    def feed(self, page: int = 1) -> str:
        return "/feed" + (f"?page={page}" if page > 1 else "")

    def search(self, q: str | None = None) -> str:
        return "/search" + ("?" + urlencode({"q": q}) if q else "")

    def trends(self) -> str:
        return "/trends"

    def static(self, name: str) -> str:
        return f"/static/{name}"

    def api_docs(self) -> str:
        return "/docs"

    def atom_topic(self, slug: str) -> str:
        return f"/feeds/topics/{quote(slug, safe='')}.atom"

    def atom_author(self, slug: str) -> str:
        return f"/feeds/authors/{quote(slug, safe='')}.atom"

    def atom_search(self, q: str) -> str:
        return "/feeds/search.atom?" + urlencode({"q": q})

    def with_query(self, path: str, **changes) -> str:
        """The current page's URL with some query parameters changed (None removes one)."""
        params = {k: v for k, v in self.query.items() if k not in ("page", "lang")}
        for key, value in changes.items():
            if value is None or value == "":
                params.pop(key, None)
            else:
                params[key] = str(value)
        return path + ("?" + urlencode(params) if params else "")

    def bibtex(self, path: str) -> str:
        return self.with_query(path, format="bibtex")

    def lang(self, path: str, lang: str) -> str:
        params = dict(self.query)
        params["lang"] = lang
        return path + "?" + urlencode(params)


class StaticLinks(Links):
    """Relative links between static files (index.html per path) that work from file:// too."""

    dynamic = False

    def __init__(self, depth: int):
        super().__init__()
        self.root = "../" * depth

    def _page(self, *parts: str, page: int = 1) -> str:
        segs = [safe_segment(p) for p in parts]
        if page > 1:
            segs.append(str(page))
        return self.root + "/".join([*segs, "index.html"])

    def home(self) -> str:
        return self.root + "index.html"

    def topic(self, slug: str, page: int = 1) -> str:
        return self._page("topics", slug, page=page)

    def paper(self, pid: str) -> str:
        return self._page("papers", pid)

    def author(self, slug: str) -> str:
        return self._page("authors", slug)

    def tag(self, norm: str, page: int = 1) -> str:
        return self._page("tags", norm, page=page)

    def feed(self, page: int = 1) -> str:
        return self._page("feed", page=page)

    def search(self, q: str | None = None) -> str:
        return self._page("search")

    def trends(self) -> str:
        return self._page("trends")

    def static(self, name: str) -> str:
        return self.root + "static/" + name

    def api_docs(self) -> str:
        return ""

    def atom_topic(self, slug: str) -> str:
        return ""  # feeds need absolute links: the server has them

    def atom_author(self, slug: str) -> str:
        return ""

    def atom_search(self, q: str) -> str:
        return ""

    def bibtex(self, path: str) -> str:
        # A list's BibTeX sits beside its first page: topics/<slug>/papers.bib
        parts = path.split("/")[:-1]
        if parts and parts[-1].isdigit():
            parts = parts[:-1]
        return "/".join([*parts, "papers.bib"])


def authors_line(paper: Paper, limit: int = 3) -> tuple[list[str], bool]:
    """Names to show and whether to add 'et al.' (the source truncated the list, or we do)."""
    names = paper.authors[:limit]
    return names, paper.authors_truncated or len(paper.authors) > limit


def summary_for(paper: Paper, lang: str):
    """(summary, its language) in the wanted language, else the other one, else (None, None)."""
    for code in (lang, "zh" if lang == "en" else "en", *paper.summary):
        summary = paper.summary.get(code)
        if summary is not None and not summary.is_empty():
            return summary, code
    return None, None


def make_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    def card_html(catalog, paper: Paper, links: Links, lang: str, t: dict, show_topic: bool = True) -> Markup:
        # A card depends only on the paper, language and link style: render it once per catalog version.
        key = ("card", paper.id, lang, getattr(links, "root", None), show_topic)
        html = catalog.memo.get(key)
        if html is None:
            html = env.get_template("macros.html").module.card(paper, links, lang, t, show_topic)
            if len(catalog.memo) > 50_000:
                catalog.memo.clear()
            catalog.memo[key] = html
        return html

    env.globals.update(card_html=card_html,
        SUMMARY_FIELDS=SUMMARY_FIELDS, SUMMARY_LABELS=SUMMARY_LABELS, display_title=display_title, title_origin=title_origin,
        format_date=format_date, authors_line=authors_line, summary_for=summary_for, highlight=highlight,
        snippet=snippet, safe_href=safe_href, repo_name=repo_name, rating=rating, keyword_norm=keyword_norm, slugify=slugify,
    )
    return env
