"""What each page shows, computed from the catalog; shared by the server and the static site."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from ..export import paper_bibtex
from ..models import Paper
from ..store import keyword_norm
from . import charts
from .catalog import Catalog, display_title, rating, sort_date

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


def paginate(papers: list[Paper], page: int, per_page: int) -> Listing:
    pages = max(1, math.ceil(len(papers) / per_page))
    if page > pages:
        raise NotFound(f"page {page} is past the last page ({pages})")
    start = (page - 1) * per_page
    return Listing(papers[start:start + per_page], len(papers), page, pages, per_page)


def filter_and_sort(catalog: Catalog, ids: list[str], f: ListFilters, memo_key: str | None = None) -> list[Paper]:
    if memo_key is not None:
        key = ("list", memo_key, f.year, f.venue, f.code, f.kw, f.sort)
        found = catalog.memo.get(key)
        if found is None:
            found = catalog.memo[key] = filter_and_sort(catalog, ids, f)
        return found
    papers = [catalog.papers[pid] for pid in ids]
    if f.year is not None:
        papers = [p for p in papers if p.year == f.year]
    if f.venue:
        papers = [p for p in papers if p.venue == f.venue]
    if f.code:
        papers = [p for p in papers if p.code_url or p.extra.get("code_badge")]
    if f.kw:
        wanted = keyword_norm(f.kw)
        papers = [p for p in papers if wanted in catalog.keyword_norms[p.id]]
    if f.sort == "date":
        papers.sort(key=lambda p: (sort_date(p), -catalog.position[p.id]), reverse=True)
    elif f.sort == "title":
        papers.sort(key=lambda p: display_title(p).casefold())
    elif f.sort == "rating":
        papers.sort(key=lambda p: (rating(p) is None, -(rating(p) or 0.0)))
    return papers


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
    for pid in ids:
        p = catalog.papers[pid]
        if p.year:
            years[p.year] += 1
        if p.venue:
            venues[p.venue] += 1
        for k in catalog.keyword_norms[pid]:
            keywords[k] += 1
        rated = rated or rating(p) is not None
    return {
        "years": sorted(years.items(), reverse=True),
        "venues": venues.most_common(20),
        "keywords": [(k, catalog.keywords[k].label, n) for k, n in keywords.most_common(40) if k in catalog.keywords],
        "rated": rated,
    }


def index_context(catalog: Catalog, recent: int = 8) -> dict:
    key = ("index", recent)
    if key not in catalog.memo:
        catalog.memo[key] = _index_context(catalog, recent)
    return catalog.memo[key]


def _index_context(catalog: Catalog, recent: int) -> dict:
    return {
        "areas": catalog.areas,
        "no_topic": len(catalog.no_topic),
        "stats": catalog.stats,
        "recent": [catalog.papers[pid] for pid in catalog.newest[:recent]],
        "top_keywords": sorted(catalog.keywords.values(), key=lambda k: -len(k.ids))[:24],
        "top_authors": sorted(catalog.authors.values(), key=lambda a: -len(a.ids))[:16],
    }


def topic_context(catalog: Catalog, slug: str, f: ListFilters, page: int, per_page: int) -> dict:
    info = catalog.topics.get(slug)
    if info is None:
        raise NotFound(f"no topic {slug!r}")
    papers = filter_and_sort(catalog, info.ids, f, memo_key="topic:" + slug)
    return {"topic": info, "listing": paginate(papers, page, per_page), "filters": f,
            "facets": facet_options(catalog, info.ids, memo_key="topic:" + slug), "all_papers": papers}


def tag_context(catalog: Catalog, norm: str, f: ListFilters, page: int, per_page: int) -> dict:
    info = catalog.keywords.get(keyword_norm(norm))
    if info is None:
        raise NotFound(f"no keyword {norm!r}")
    papers = filter_and_sort(catalog, info.ids, f, memo_key="tag:" + info.norm)
    return {"keyword": info, "listing": paginate(papers, page, per_page), "filters": f, "all_papers": papers}


def author_context(catalog: Catalog, slug: str) -> dict:
    info = catalog.authors.get(slug)
    if info is None:
        raise NotFound(f"no author {slug!r}")
    by_year: dict[int | None, list[Paper]] = defaultdict(list)
    papers = [catalog.papers[pid] for pid in info.ids]
    for paper in sorted(papers, key=lambda p: (sort_date(p), -catalog.position[p.id]), reverse=True):
        by_year[paper.year].append(paper)
    groups = sorted(by_year.items(), key=lambda kv: (kv[0] is None, -(kv[0] or 0)))
    return {"author": info, "groups": groups, "coauthors": catalog.coauthors(slug)[:40], "all_papers": papers}


def feed_context(catalog: Catalog, page: int, per_page: int) -> dict:
    return {"listing": paginate([catalog.papers[pid] for pid in catalog.newest], page, per_page)}


def paper_context(catalog: Catalog, pid: str, similar: bool = True) -> dict:
    paper = catalog.papers.get(pid)
    if paper is None:
        raise NotFound(f"no paper {pid!r}")
    store = catalog.store
    method, model, similar_items = catalog.similar(pid) if similar else ("none", None, [])
    topic_slug = None
    if paper.topic and (paper.topic.label or paper.topic.area):
        label = paper.topic.label or paper.topic.area
        topic_slug = next((t.slug for t in catalog.topics.values() if t.label == label and t.area == paper.topic.area),
                          None)
    enrichments = sorted(store.enrichments_for(pid).values(), key=lambda e: e["step"])
    return {
        "paper": paper,
        "topic_slug": topic_slug,
        "provenance": sorted(store.provenance(pid).items()),
        "enrichments": enrichments,
        "bibtex": paper_bibtex(paper),
        "similar_method": method,
        "similar_model": model,
        "similar": [(catalog.papers[s["id"]], s["why"]) for s in similar_items],
    }


def trends_context(catalog: Catalog, title_years: str, title_topics: str, top_topics: int = 8) -> dict:
    key = ("trends", title_years, title_topics, top_topics)
    if key not in catalog.memo:
        catalog.memo[key] = _trends_context(catalog, title_years, title_topics, top_topics)
    return catalog.memo[key]


def _trends_context(catalog: Catalog, title_years: str, title_topics: str, top_topics: int) -> dict:
    sizes = [(t.label, len(t.ids)) for area in catalog.areas.values() for t in area]
    sizes.sort(key=lambda kv: -kv[1])
    named = [label for label, _ in sizes[:top_topics]]
    other, untopiced = "other topics", "no topic"
    counts: dict[int, Counter] = defaultdict(Counter)
    label_of = {}
    for t in catalog.topics.values():
        for pid in t.ids:
            label_of[pid] = t.label
    for pid, paper in catalog.papers.items():
        if not paper.year:
            continue
        label = label_of.get(pid)
        counts[paper.year][label if label in named else (other if label else untopiced)] += 1
    series = [*named, other, untopiced]
    series = [s for s in series if any(c.get(s) for c in counts.values())]
    # Rising keywords: share of papers in the last year vs. the years before (needs dated keywords).
    rising = []
    years = sorted(counts)
    if len(years) >= 2:
        last = years[-1]
        recent, before = Counter(), Counter()
        n_recent = sum(counts[last].values())
        n_before = sum(sum(counts[y].values()) for y in years[:-1])
        for kw in catalog.keywords.values():
            for pid in kw.ids:
                year = catalog.papers[pid].year
                if year == last:
                    recent[kw.norm] += 1
                elif year:
                    before[kw.norm] += 1
        for norm, n in recent.items():
            if n < 2:
                continue
            share_now = n / max(n_recent, 1)
            share_before = before[norm] / max(n_before, 1)
            rising.append((catalog.keywords[norm], n, before[norm], share_now - share_before))
        rising.sort(key=lambda r: -r[3])
        rising = rising[:15]
    return {
        "chart_years": charts.stacked_years(counts, series, title_years),
        "chart_topics": charts.bar_list(sizes[:20], title_topics),
        "rising": rising,
        "last_year": years[-1] if years else None,
        "undated": sum(1 for p in catalog.papers.values() if not p.year),
    }
