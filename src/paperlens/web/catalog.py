"""An in-memory, read-only picture of the store for the web pages: effective papers (through
`views`, so enrichment outputs count) and the indexes the pages list them by.

Rebuilt when the database changes (checked at most once a second), so pages stay fast on big
topics: listing, sorting and filtering work on memory, not SQL per request.

No torn reads: a version is read from the database in one SQLite snapshot, built aside and swapped in
with one assignment; a request pins the version it started with (`Catalog.pin`, done by the app for
every request), so a rebuild in another thread never mixes two versions into one page."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, defaultdict
from contextvars import ContextVar, Token
from dataclasses import dataclass, field

from ..clean import slugify
from ..models import Paper
from ..store import Store, keyword_norm
from ..views import apply_enrichments


@dataclass
class TopicInfo:
    slug: str
    area: str | None
    label: str
    ids: list[str] = field(default_factory=list)


@dataclass
class AuthorInfo:
    slug: str
    name: str
    ids: list[str] = field(default_factory=list)


@dataclass
class KeywordInfo:
    norm: str
    label: str
    ids: list[str] = field(default_factory=list)


def topic_key(paper: Paper) -> tuple[str | None, str] | None:
    if paper.topic is None:
        return None
    label = paper.topic.label or paper.topic.area
    return (paper.topic.area, label) if label else None


def display_title(paper: Paper) -> str:
    """The title, or for untitled records (digests often give none) the abstract's first sentence."""
    if paper.title:
        return paper.title
    text = paper.abstract or paper.tldr or paper.id
    first = re.split(r"(?<=[.!?])\s+|(?<=[。！？])", text, maxsplit=1)[0]
    return first if len(first) <= 160 else first[:157].rstrip() + "…"


def rating(paper: Paper) -> float | None:
    for key in ("rating", "avg_rating"):
        value = paper.extra.get(key)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                continue
    return None


def sort_date(paper: Paper) -> str:
    if paper.date:
        return paper.date
    return f"{paper.year:04d}" if paper.year else ""


_PINNED: ContextVar[tuple | None] = ContextVar("paperlens_catalog_pin", default=None)


class _Version:
    """The fields of one catalog version (papers, topics, areas, stats, ...); never changed once built,
    except for the per-version cache `memo`."""


class Catalog:
    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._checked = 0.0
        self._current: _Version | None = None
        self._build()

    def __getattr__(self, name: str):
        # Only reached for a version's fields (the instance itself holds just the four above).
        current = self.__dict__.get("_current")
        pin = _PINNED.get()
        version = pin[1] if pin is not None and pin[0] is self else current
        try:
            return getattr(version, name)
        except AttributeError:
            raise AttributeError(name) from None

    def pin(self) -> Token:
        """Make the current version the one this request (context) sees until `unpin`."""
        return _PINNED.set((self, self._current))

    @staticmethod
    def unpin(token: Token) -> None:
        _PINNED.reset(token)

    # -- freshness --------------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Rebuild when the database changed; True when it did."""
        now = time.monotonic()
        if now - self._checked < 1.0:
            return False
        with self._lock:
            if now - self._checked < 1.0:
                return False
            self._checked = now
            if self.store.data_signature() == self.signature:
                return False
            self._build()
            return True

    def _build(self) -> None:
        enrichments: dict[str, dict[str, dict]] = defaultdict(dict)
        papers: dict[str, Paper] = {}
        # The signature is taken first: a commit landing before the snapshot starts then only costs one
        # more rebuild, never a missed change.
        signature = self.store.data_signature()
        with self.store.read_snapshot():  # enrichments and papers of one committed state
            for item in self.store.all_enrichments():
                enrichments[item["paper_id"]][item["step"]] = item
            for paper in self.store.iter_papers():
                papers[paper.id] = apply_enrichments(paper, enrichments.get(paper.id, {}))
        topics: dict[tuple, TopicInfo] = {}
        authors: dict[str, AuthorInfo] = {}
        keywords: dict[str, KeywordInfo] = {}
        no_topic: list[str] = []
        used_slugs: set[str] = set()
        for pid, paper in papers.items():
            key = topic_key(paper)
            if key is None:
                no_topic.append(pid)
            else:
                info = topics.get(key)
                if info is None:
                    slug = slugify(key[1])
                    if slug in used_slugs:
                        slug = slugify(f"{key[0] or ''}-{key[1]}")
                    n = 2
                    while slug in used_slugs:
                        slug, n = f"{slugify(key[1])}-{n}", n + 1
                    used_slugs.add(slug)
                    info = topics[key] = TopicInfo(slug, key[0], key[1])
                info.ids.append(pid)
            for name in dict.fromkeys(paper.authors):
                slug = slugify(name)
                author = authors.setdefault(slug, AuthorInfo(slug, name))
                if not author.ids or author.ids[-1] != pid:
                    author.ids.append(pid)
            for keyword in paper.keywords:
                norm = keyword_norm(keyword)
                if not norm:
                    continue
                kw = keywords.setdefault(norm, KeywordInfo(norm, keyword.strip()))
                if not kw.ids or kw.ids[-1] != pid:
                    kw.ids.append(pid)
        position = {pid: i for i, pid in enumerate(papers)}
        newest = sorted(papers, key=lambda pid: (sort_date(papers[pid]), -position[pid]), reverse=True)
        areas: dict[str | None, list[TopicInfo]] = defaultdict(list)
        for info in sorted(topics.values(), key=lambda t: (-len(t.ids), t.label)):
            areas[info.area].append(info)
        new = _Version()
        new.papers = papers
        new.position = position
        new.newest = newest
        new.topics = {t.slug: t for t in topics.values()}
        new.areas = dict(sorted(areas.items(), key=lambda kv: -sum(len(t.ids) for t in kv[1])))
        new.no_topic = no_topic
        new.authors = authors
        new.keywords = keywords
        new.titles = {pid: display_title(p) for pid, p in papers.items()}
        new.keyword_norms = {pid: list(dict.fromkeys(n for n in (keyword_norm(k) for k in p.keywords) if n))
                             for pid, p in papers.items()}
        new.memo = {}  # per-version results pages compute once (facets, rendered cards)
        new.signature = signature
        new.version = (self._current.version if self._current is not None else 0) + 1
        new.stats = {
            "papers": len(papers),
            "topics": len(topics),
            "authors": len(authors),
            "with_code": sum(1 for p in papers.values() if p.code_url or p.extra.get("code_badge")),
            "with_summary": sum(1 for p in papers.values() if any(not s.is_empty() for s in p.summary.values())),
            "years": Counter(p.year for p in papers.values()),
        }
        self._current = new  # one assignment: readers see the old version or the new one, never a mix

    # -- lookups ----------------------------------------------------------------------------------
    def get(self, pid: str) -> Paper | None:
        return self.papers.get(pid)

    def canonical_id(self, pid: str) -> str | None:
        if pid in self.papers:
            return pid
        return self.store.resolve_id(pid)

    def coauthors(self, slug: str) -> list[tuple[AuthorInfo, int]]:
        counts: Counter[str] = Counter()
        for pid in self.authors[slug].ids:
            for name in dict.fromkeys(self.papers[pid].authors):
                other = slugify(name)
                if other != slug:
                    counts[other] += 1
        return [(self.authors[s], n) for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def similar(self, pid: str, k: int = 6) -> tuple[str, str | None, list[dict]]:
        """(method, model, [{id, score, why}]) from paperlens.hybrid: embedding neighbours when vectors are
        stored, else shared words; each with a short reason."""
        from ..search import searcher_for

        items = [item for item in searcher_for(self.store).similar(pid, k=k) if item["id"] in self.papers]
        model, _vector = self.store.embedding_of(pid)
        return ("embedding", model, items) if model else ("text", None, items)

    def similar_has_embeddings(self) -> bool:
        return self.store.has_embeddings()


_STOP = set("""this that with from have been were their which these those than then them they into over
under such also more most some many much very only other using used based show shows paper propose proposed
approach method methods model models results while where when what whose each both between across via our
large language""".split())
