"""`paperlens export --format site`: the web digest as static files for GitHub Pages.

Same templates as the server, relative links (index.html per path, so file:// works too), and a
client-side search over a prebuilt sharded index. Every generated path is sanitised and checked to
stay inside the target directory."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from paperlens.core.models import SUMMARY_FIELDS, Paper
from paperlens.export.bibtex import write_bibtex
from paperlens.search.crosslingual import translate_terms
from paperlens.search.document import has_han, index_terms, topic_names
from paperlens.store import Store
from paperlens.web import pages
from paperlens.web.brief import display_title
from paperlens.web.catalog import Catalog
from paperlens.web.i18n import labels
from paperlens.web.profiles import write_profile_site
from paperlens.web.render import STATIC, StaticLinks, make_env, safe_segment

BUCKETS = 512
PREFIX = 3  # terms sharing their first PREFIX characters share a shard, so a typed prefix loads one file
DOCS_PER_SHARD = 1000
PER_PAGE = 50
SHORT_TEXT = 220
COMMON_SHARE = 0.05
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


class SiteWriter:
    """Writes files under one directory and refuses any path that would leave it."""

    def __init__(self, out_dir: str | os.PathLike[str]):
        self.root = Path(out_dir).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.files = 0
        self.bytes = 0

    def path(self, *segments: str) -> Path:
        for seg in segments:
            if not seg or seg in (".", "..") or "/" in seg or "\\" in seg or "\x00" in seg:
                raise ValueError(f"unsafe path segment {seg!r}")
        target = self.root.joinpath(*segments).resolve()
        if not target.is_relative_to(self.root):
            raise ValueError(f"{target} is outside {self.root}")
        return target

    def write(self, segments: list[str], content: str | bytes) -> None:
        target = self.path(*segments)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        target.write_bytes(data)
        self.files += 1
        self.bytes += len(data)


def tokens(text: str) -> list[str]:
    """Search tokens; static/search.js splits the same way ([\\p{L}\\p{N}]+, lower case, NFKC). Chinese
    is segmented with jieba (search mode, as the server's index); search.js segments a query by the
    longest Chinese words of the index (meta.han) from left to right."""
    out: list[str] = []
    for token in _TOKEN.findall(unicodedata.normalize("NFKC", text).lower()):
        if has_han(token):
            out += [t for t in index_terms(token) if len(t) > 1]
        elif len(token) > 1:
            out.append(token)
    return out


def bucket(term: str) -> int:
    """FNV-1a over the first PREFIX code points (search.js computes the same)."""
    h = 2166136261
    for ch in term[:PREFIX]:
        h ^= ord(ch)
        h = (h * 16777619) & 0xFFFFFFFF
    return h % BUCKETS


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if n == 0:
        return "0"
    out = []
    while n:
        n, r = divmod(n, 36)
        out.append(digits[r])
    return "".join(reversed(out))


def _postings(ids: list[int]) -> str:
    prev, out = 0, []
    for i in ids:
        out.append(_base36(i - prev))
        prev = i
    return ",".join(out)


def _js(call: str, *args) -> str:
    # ensure_ascii keeps U+2028/2029 and every non-ASCII character escaped inside the script.
    return f"PL_SEARCH.{call}({', '.join(json.dumps(a, ensure_ascii=True, separators=(',', ':')) for a in args)});\n"


def build_search_index(docs: list[tuple[str, Paper, str | None]], writer: SiteWriter) -> dict:
    """docs: (page path relative to the site root, paper, topic label). Writes search/meta.js,
    search/t/<bucket>.js (term -> [title/keyword/author postings, body postings]) and
    search/d/<shard>.js (rows of title, authors, path, year, topic, short text)."""
    strong: dict[str, list[int]] = defaultdict(list)
    weak: dict[str, list[int]] = defaultdict(list)
    rows = []
    for n, (path, paper, topic) in enumerate(docs):
        title = display_title(paper)
        names_of_topic = " ".join(topic_names().get(topic, (topic,))) if topic else ""
        head = " ".join([title, " ".join(paper.keywords), " ".join(paper.authors), names_of_topic])
        head_terms = set(tokens(head))
        for term in head_terms:
            strong[term].append(n)
        summaries = [getattr(s, f) for s in paper.summary.values() for f in SUMMARY_FIELDS]
        for term in set(tokens(" ".join([paper.tldr or "", paper.abstract, *summaries]))) - head_terms:
            weak[term].append(n)
        names = ", ".join(paper.authors[:3]) + (" et al." if paper.authors_truncated or len(paper.authors) > 3 else "")
        short = paper.tldr or paper.abstract
        short = short if len(short) <= SHORT_TEXT else short[:SHORT_TEXT].rsplit(" ", 1)[0] + "…"
        rows.append([title, names, path, paper.year or "", topic or "", short])
    # Words in most abstracts ("the", "model", ...) rank nothing and would dominate the index: only
    # their title postings are kept, and search.js skips them in a query that has other words.
    common_df = max(500, int(len(rows) * COMMON_SHARE))
    common = sorted(t for t in set(strong) | set(weak) if len(weak.get(t, [])) + len(strong.get(t, [])) > common_df)
    for term in common:
        weak.pop(term, None)
    vocabulary = set(strong) | set(weak)
    shards: dict[int, dict[str, list]] = defaultdict(dict)
    for term in vocabulary:
        entry: list = [_postings(strong.get(term, [])), _postings(weak.get(term, []))]
        # The term's words in the other language (search/crosslingual.py), those the site holds.
        other = translate_terms([term], known=lambda words: vocabulary.intersection(words))
        if other:
            entry.append(other[0])
        shards[bucket(term)][term] = entry
    for b, table in shards.items():
        writer.write(["search", "t", f"{b}.js"], _js("terms", b, table))
    for k in range(0, len(rows), DOCS_PER_SHARD):
        writer.write(["search", "d", f"{k // DOCS_PER_SHARD}.js"], _js("docs", k // DOCS_PER_SHARD,
                                                                         rows[k:k + DOCS_PER_SHARD]))
    meta = {"docs": len(rows), "buckets": BUCKETS, "prefix": PREFIX, "per_shard": DOCS_PER_SHARD,
            "terms": sum(len(t) for t in shards.values()), "common": common,
            # Chinese words of the index, for search.js to segment a query the way the index is.
            "han": sorted(t for t in vocabulary if has_han(t))}
    writer.write(["search", "meta.js"], _js("meta", meta))
    return meta


def export_site(store: Store, out_dir: str | os.PathLike[str], *, lang: str = "en",
                similar_limit: int = 2000, on_progress: Callable[[str], None] | None = None,
                on_warning: Callable[[str], None] | None = None) -> int:
    """Write the whole site; returns the number of papers. Similar papers are listed when the
    corpus is small enough for per-paper text search (or embeddings are stored). `on_warning` hears of
    what is left out (a profile whose stored name cannot be a path)."""
    started = time.perf_counter()
    catalog = Catalog(store)
    writer = SiteWriter(out_dir)
    env = make_env()
    t = labels(lang)

    def render(template: str, ctx: dict, segments: list[str]) -> None:
        depth = len(segments) - 1
        ctx = {**ctx, "lang": lang, "t": t, "L": StaticLinks(depth), "request_path": "", "catalog": catalog}
        writer.write(segments, env.get_template(template).render(ctx))

    def bib(papers: list[Paper], segments: list[str]) -> None:
        out = io.StringIO()
        write_bibtex(papers, out)
        writer.write(segments, out.getvalue())

    def paged(template: str, build: Callable[[int], dict], base: list[str]) -> None:
        first = build(1)
        render(template, first, [*base, "index.html"])
        for page in range(2, first["listing"].pages + 1):
            render(template, build(page), [*base, str(page), "index.html"])

    render("index.html", pages.index_context(catalog), ["index.html"])
    for slug, info in catalog.topics.items():
        seg = safe_segment(slug)
        paged("topic.html", lambda n, s=slug: pages.topic_context(catalog, s, pages.ListFilters(), n, PER_PAGE),
              ["topics", seg])
        bib(catalog.papers.many(info.ids), ["topics", seg, "papers.bib"])
    for norm, info in catalog.keywords.items():
        seg = safe_segment(norm)
        paged("tag.html", lambda n, k=norm: pages.tag_context(catalog, k, pages.ListFilters(), n, PER_PAGE),
              ["tags", seg])
        bib(catalog.papers.many(info.ids), ["tags", seg, "papers.bib"])
    for slug in catalog.authors:
        seg = safe_segment(slug)
        ctx = pages.author_context(catalog, slug)
        render("author.html", ctx, ["authors", seg, "index.html"])
        bib(ctx["all_papers"], ["authors", seg, "papers.bib"])
    paged("feed.html", lambda n: pages.feed_context(catalog, n, PER_PAGE), ["feed"])
    render("trends.html", pages.trends_context(catalog, t["papers_per_year"], t["topic_sizes"]),
           ["trends", "index.html"])
    render("search.html", {"q": ""}, ["search", "index.html"])
    with_similar = len(catalog.papers) <= similar_limit or catalog.similar_has_embeddings()
    docs = []
    topic_label = {pid: info.label for info in catalog.topics.values() for pid in info.ids}
    for pid in catalog.newest:
        seg = safe_segment(pid)
        render("paper.html", pages.paper_context(catalog, pid, similar=with_similar), ["papers", seg, "index.html"])
        docs.append((f"papers/{seg}/index.html", catalog.papers[pid], topic_label.get(pid)))
    build_search_index(docs, writer)
    for name in sorted(os.listdir(STATIC)):
        source = STATIC / name
        if source.is_file():
            target = writer.path("static", safe_segment(name))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    writer.write([".nojekyll"], "")
    write_profile_site(store, writer.root, on_warning=on_warning)  # reader profiles: their digest pages and Atom feeds (issue 17)
    if on_progress:
        on_progress(f"{writer.files} files, {writer.bytes / 1e6:.1f} MB in {time.perf_counter() - started:.1f}s")
    return len(catalog.papers)
