"""What each page shows, computed from the catalog; shared by the server and the static site."""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from paperlens.core.merge import merge_note_text
from paperlens.core.models import Paper
from paperlens.export.bibtex import paper_bibtex
from paperlens.store import keyword_norm
from paperlens.web import charts
from paperlens.web.brief import title_origin
from paperlens.web.catalog import Catalog

SORTS = ("", "date", "title", "rating")


class NotFound(Exception):
    pass


@dataclass
class Listing:
    papers: list[Paper]
    total: int
    page: int
    pages: int
    per_page: int


@dataclass
class ListFilters:
    year: int | None = None
    venue: str | None = None
    code: bool = False
    kw: str | None = None
    sort: str = ""

    def active(self) -> bool:
        return bool(self.year or self.venue or self.code or self.kw)


def paginate(catalog: Catalog, ids: list[str], page: int, per_page: int) -> Listing:
    """One page of a listing; only that page's papers are read in full."""
    pages = max(1, math.ceil(len(ids) / per_page))
    if page > pages:
        raise NotFound(f"page {page} is past the last page ({pages})")
    start = (page - 1) * per_page
    return Listing(catalog.papers.many(ids[start:start + per_page]), len(ids), page, pages, per_page)


def filter_and_sort(catalog: Catalog, ids: list[str], f: ListFilters, memo_key: str | None = None) -> list[str]:
    """The ids of a listing, filtered and sorted on the papers' briefs (no paper is read in full)."""
    if memo_key is not None:
        key = ("list", memo_key, f.year, f.venue, f.code, f.kw, f.sort)
        found = catalog.memo.get(key)
        if found is None:
            found = catalog.memo[key] = filter_and_sort(catalog, ids, f)
        return found
    briefs = catalog.briefs
    chosen = [(pid, briefs[pid]) for pid in ids]
    if f.year is not None:
        chosen = [(pid, b) for pid, b in chosen if b.year == f.year]
    if f.venue:
        chosen = [(pid, b) for pid, b in chosen if b.venue == f.venue]
    if f.code:
        chosen = [(pid, b) for pid, b in chosen if b.has_code]
    if f.kw:
        wanted = keyword_norm(f.kw)
        chosen = [(pid, b) for pid, b in chosen if any(norm == wanted for norm, _ in b.keywords)]
    if f.sort == "date":
        chosen.sort(key=lambda item: (item[1].date, -item[1].rowid), reverse=True)
    elif f.sort == "title":
        chosen.sort(key=lambda item: item[1].title.casefold())
    elif f.sort == "rating":
        chosen.sort(key=lambda item: (item[1].rating is None, -(item[1].rating or 0.0)))
    return [pid for pid, _ in chosen]


def facet_options(catalog: Catalog, ids: list[str], memo_key: str | None = None) -> dict:
    if memo_key is not None:
        key = ("facets", memo_key)
        if key not in catalog.memo:
            catalog.memo[key] = facet_options(catalog, ids)
        return catalog.memo[key]
    years: Counter = Counter()
    venues: Counter = Counter()
    keywords: Counter = Counter()
    rated = False
    briefs = catalog.briefs
    for pid in ids:
        b = briefs[pid]
        if b.year:
            years[b.year] += 1
        if b.venue:
            venues[b.venue] += 1
        for norm, _label in b.keywords:
            keywords[norm] += 1
        rated = rated or b.rating is not None
    return {
        "years": sorted(years.items(), reverse=True),
        "venues": venues.most_common(20),
        "keywords": [(k, catalog.keywords[k].label, n) for k, n in keywords.most_common(40) if k in catalog.keywords],
        "rated": rated,
    }


HOME_RECENT = 8  # papers the home page lists


def index_context(catalog: Catalog, recent: int = HOME_RECENT) -> dict:
    key = ("index", recent)
    if key not in catalog.memo:
        catalog.memo[key] = _index_context(catalog, recent)
    return catalog.memo[key]


def home_lists(catalog, recent: int = HOME_RECENT) -> dict:
    """What the home page shows of a catalog (or a catalog version), the recent papers as their ids. A
    catalog saves it with each version in its snapshot file, so that a server starting from it answers
    the home page before loading the rest (catalog_start.py: the preview's `preview_home`)."""
    return {
        "areas": catalog.areas,
        "no_topic": len(catalog.no_topic),
        "stats": catalog.stats,
        "recent_ids": list(catalog.newest[:recent]),
        "top_keywords": heapq.nsmallest(24, catalog.keywords.values(), key=lambda k: (-len(k.ids), k.norm)),
        "top_authors": heapq.nsmallest(16, catalog.authors.values(), key=lambda a: (-len(a.ids), a.slug)),
    }


def _index_context(catalog: Catalog, recent: int) -> dict:
    lists = dict(catalog.preview_home if catalog.previewing and recent == HOME_RECENT else home_lists(catalog, recent))
    lists["recent"] = catalog.papers.many(lists.pop("recent_ids"))
    return lists


def topic_context(catalog: Catalog, slug: str, f: ListFilters, page: int, per_page: int) -> dict:
    info = catalog.topics.get(slug)
    if info is None:
        raise NotFound(f"no topic {slug!r}")
    ids = filter_and_sort(catalog, info.ids, f, memo_key="topic:" + slug)
    return {"topic": info, "listing": paginate(catalog, ids, page, per_page), "filters": f,
            "facets": facet_options(catalog, info.ids, memo_key="topic:" + slug), "all_ids": ids}


def tag_context(catalog: Catalog, norm: str, f: ListFilters, page: int, per_page: int) -> dict:
    info = catalog.keywords.get(keyword_norm(norm))
    if info is None:
        raise NotFound(f"no keyword {norm!r}")
    ids = filter_and_sort(catalog, info.ids, f, memo_key="tag:" + info.norm)
    return {"keyword": info, "listing": paginate(catalog, ids, page, per_page), "filters": f, "all_ids": ids}


def author_context(catalog: Catalog, slug: str) -> dict:
    info = catalog.authors.get(slug)
    if info is None:
        raise NotFound(f"no author {slug!r}")
    by_year: dict[int | None, list[Paper]] = defaultdict(list)
    papers = catalog.papers.many(filter_and_sort(catalog, info.ids, ListFilters(sort="date")))
    for paper in papers:
        by_year[paper.year].append(paper)
    groups = sorted(by_year.items(), key=lambda kv: (kv[0] is None, -(kv[0] or 0)))
    return {"author": info, "groups": groups, "coauthors": catalog.coauthors(slug)[:40], "all_papers": papers}


def feed_context(catalog: Catalog, page: int, per_page: int) -> dict:
    return {"listing": paginate(catalog, catalog.newest, page, per_page)}


def paper_context(catalog: Catalog, pid: str, similar: bool = True) -> dict:
    paper = catalog.papers.get(pid)
    if paper is None:
        raise NotFound(f"no paper {pid!r}")
    store = catalog.store
    method, model, similar_items = catalog.similar(pid) if similar else ("none", None, [])
    brief = catalog.brief(pid)
    topic_slug = catalog.topic_slug.get(brief.topic) if brief is not None and brief.topic else None
    enrichments = sorted(store.enrichments_for(pid).values(), key=lambda e: e["step"])
    shown = {p.id: p for p in catalog.papers.many([s["id"] for s in similar_items])}
    return {
        "paper": paper,
        "topic_slug": topic_slug,
        # merge notes (lists of objects) as one line of text each
        "provenance": sorted([*((k, v if isinstance(v, str) else merge_note_text(k, v))
                                for k, v in store.provenance(pid).items()),
                              *((("title", title_origin(paper)),) if title_origin(paper) else ())]),
        "enrichments": enrichments,
        "bibtex": paper_bibtex(paper),
        "similar_method": method,
        "similar_model": model,
        "similar": [(shown[s["id"]], s["why"]) for s in similar_items if s["id"] in shown],
    }


def trends_context(catalog: Catalog, title_years: str, title_topics: str, top_topics: int = 8) -> dict:
    key = ("trends", title_years, title_topics, top_topics)
    if key not in catalog.memo:
        catalog.memo[key] = _trends_context(catalog, title_years, title_topics, top_topics)
    return catalog.memo[key]


def _skipped_years(years: list) -> list[int]:
    dated = sorted(y for y in years if isinstance(y, int) and y > 0)
    if len(dated) < 2:
        return []
    present = set(dated)
    return [y for y in range(dated[0], dated[-1] + 1) if y not in present]


def _trends_context(catalog: Catalog, title_years: str, title_topics: str, top_topics: int) -> dict:
    sizes = [(t.label, len(t.ids)) for area in catalog.areas.values() for t in area]
    sizes.sort(key=lambda kv: -kv[1])
    named = [label for label, _ in sizes[:top_topics]]
    other, untopiced = "other topics", "no topic"
    counts: dict[int, Counter] = defaultdict(Counter)
    tallies = catalog.counts  # kept up to date by the catalog: no pass over every paper here
    for (year, label), n in tallies.year_topics.items():
        counts[year][label if label in named else (other if label else untopiced)] += n
    series = [*named, other, untopiced]
    series = [s for s in series if any(c.get(s) for c in counts.values())]
    # Rising keywords: share of papers in the last year vs. the years before (needs dated keywords).
    rising = []
    years = sorted(counts)
    if len(years) >= 2:
        last = years[-1]
        n_recent = sum(counts[last].values())
        n_before = sum(sum(counts[y].values()) for y in years[:-1])
        for norm, per_year in tallies.keyword_years.items():
            n = per_year.get(last, 0)
            if n < 2 or norm not in catalog.keywords:
                continue
            before = sum(per_year.values()) - n
            share_now = n / max(n_recent, 1)
            share_before = before / max(n_before, 1)
            if round((share_now - share_before) * 100, 1) <= 0:  # not rising: "+0.0 pt" is no rise
                continue
            rising.append((catalog.keywords[norm], n, before, share_now - share_before))
        rising.sort(key=lambda r: (-r[3], r[0].norm))
        rising = rising[:15]
    return {
        "chart_years": charts.stacked_years(counts, series, title_years),
        "chart_topics": charts.bar_list(sizes[:20], title_topics),
        "rising": rising,
        "last_year": years[-1] if years else None,
        # the chart has one bar per year with papers: say which years in between it leaves out
        "skipped_years": _skipped_years(years),
        "undated": catalog.counts.years.get(None, 0) + catalog.counts.years.get(0, 0),
    }
