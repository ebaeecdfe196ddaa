"""The web pages' picture of the store: a small record per paper (`Brief`: what listings sort, filter
and count by) and the indexes the pages list papers by. Whole papers are read from SQLite only when a
page shows them (`Catalog.papers`, a mapping with a small cache).

Why briefs and not whole papers in memory: a million papers as pydantic models take many GiB and
minutes to load, and the old catalog loaded them all again on every change. A brief is a few hundred
bytes, and after the first build only the papers written or enriched since the last version are read
again (`Store.changed_rowids`).

No torn listings: a version's briefs and indexes come from one SQLite snapshot, are built aside and
swapped in with one assignment; a request pins the version it started with (`Catalog.pin`, done by the
app for every request), so a rebuild in another thread never mixes two versions into one listing.
A paper shown in full is read when the page is made, so it can be newer than the listing, never older.
Large catalogs are rebuilt in a background thread: requests keep the current version meanwhile."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable, Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..clean import slugify
from ..models import Paper
from ..store import Store, keyword_norm
from ..views import apply_enrichments

# A write can commit a few seconds after the time it stamped on its rows; re-reading rows stamped this
# long before the last version's newest stamp means such a write is never missed.
LATE_COMMIT_S = 10
# Above this many changed papers (or a fifth of the catalog) a full rebuild is cheaper than patching.
PATCH_MAX = 50_000
# A build slower than this moves later rebuilds to a background thread, so no request waits for one.
BACKGROUND_BUILD_S = 2.0
PAPER_CACHE = 2048  # whole papers kept for the pages that show them


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


_intern = sys.intern


class Brief:
    """What listings need of one (effective) paper; shared between versions while it is unchanged."""

    __slots__ = ("rowid", "title", "year", "date", "venue", "has_code", "rating", "topic", "keywords",
                 "authors", "has_summary")

    def __init__(self, rowid: int, paper: Paper):
        self.rowid = rowid
        self.title = display_title(paper)
        self.year = paper.year
        self.date = sort_date(paper)
        self.venue = _intern(paper.venue) if paper.venue else None
        self.has_code = bool(paper.code_url or paper.extra.get("code_badge"))
        self.rating = rating(paper)
        key = topic_key(paper)
        self.topic = (_intern(key[0]) if key[0] else None, _intern(key[1])) if key else None
        # (norm, as written) per keyword, norms unique; strings interned: a few thousand distinct ones
        # are shared by a million papers.
        pairs: dict[str, str] = {}
        for keyword in paper.keywords:
            norm = keyword_norm(keyword)
            if norm and norm not in pairs:
                pairs[_intern(norm)] = _intern(keyword.strip())
        self.keywords = tuple(pairs.items())
        self.authors = tuple(_intern(name) for name in dict.fromkeys(paper.authors))
        self.has_summary = any(not s.is_empty() for s in paper.summary.values())

    @property
    def keyword_norms(self) -> list[str]:
        return [norm for norm, _label in self.keywords]


_PINNED: ContextVar[tuple | None] = ContextVar("paperlens_catalog_pin", default=None)


class PaperView:
    """`catalog.papers`: the catalog's papers as a read-only mapping id -> effective Paper. Membership,
    length and iteration come from the pinned version's briefs; a paper itself is read from the store
    (with its enrichments applied) and kept in a small cache until it changes."""

    def __init__(self, catalog: Catalog):
        self._catalog = catalog

    def _briefs(self) -> dict[str, Brief]:
        return self._catalog.briefs

    def __contains__(self, pid: object) -> bool:
        return pid in self._briefs()

    def __len__(self) -> int:
        return len(self._briefs())

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._briefs()))

    def __getitem__(self, pid: str) -> Paper:
        if pid not in self._briefs():
            raise KeyError(pid)
        return self._catalog._load([pid])[pid]

    def get(self, pid: str, default=None) -> Paper | None:
        try:
            return self[pid]
        except KeyError:
            return default

    def many(self, ids: Iterable[str]) -> list[Paper]:
        """The papers of `ids` in that order (those not in the catalog left out), read in batches."""
        briefs = self._briefs()
        wanted = [pid for pid in ids if pid in briefs]
        found = self._catalog._load(wanted)
        return [found[pid] for pid in wanted if pid in found]

    def values(self) -> Iterator[Paper]:
        ids = list(self._briefs())
        for start in range(0, len(ids), 1000):
            yield from self.many(ids[start:start + 1000])

    def items(self) -> Iterator[tuple[str, Paper]]:
        for paper in self.values():
            yield paper.id, paper


class _Version:
    """The fields of one catalog version (briefs, topics, areas, stats, ...); never changed once built,
    except for the per-version cache `memo`."""


class Catalog:
    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._checked = 0.0
        self._current: _Version | None = None
        self._building = False
        self._build_seconds = 0.0
        self._slugs: dict[str, str] = {}  # author name -> slug (slugify is the costly part of indexing)
        self._cache: OrderedDict[str, Paper] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.papers = PaperView(self)
        self._current = self._next_version(None)

    def __getattr__(self, name: str):
        # Only reached for a version's fields (the instance itself holds the attributes set in __init__).
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
        """Catch up with the database when it changed; True when a new version is in place. A catalog
        whose last build was slow is rebuilt in a background thread (False until it is in place)."""
        now = time.monotonic()
        if now - self._checked < 1.0 or self._building:
            return False
        if not self._lock.acquire(blocking=False):
            return False  # another request is checking or building: serve the current version
        try:
            if now - self._checked < 1.0 or self._building:
                return False
            self._checked = now
            if self.store.data_signature() == self.signature:
                return False
            if self._build_seconds > BACKGROUND_BUILD_S:
                self._building = True
                threading.Thread(target=self._build_in_background, name="paperlens-catalog", daemon=True).start()
                return False
            self._current = self._next_version(self._current)
            return True
        finally:
            self._lock.release()

    def wait_built(self, timeout: float = 60.0) -> None:
        """Wait for a background rebuild to finish (tests, benchmarks)."""
        end = time.monotonic() + timeout
        while self._building and time.monotonic() < end:
            time.sleep(0.01)

    def _build_in_background(self) -> None:
        try:
            self._current = self._next_version(self._current)
        finally:
            self._building = False

    def _next_version(self, previous: _Version | None) -> _Version:
        started = time.perf_counter()
        # The signature is taken first: a commit landing before the snapshot starts then only costs one
        # more rebuild, never a missed change.
        signature = self.store.data_signature()
        with self.store.read_snapshot():  # briefs of one committed state
            stamps = self.store.update_stamps()
            changed = None
            if previous is not None:
                changed = self.store.changed_rowids(*(_earlier(s, LATE_COMMIT_S) for s in previous.stamps))
                if len(changed) > max(PATCH_MAX, len(previous.briefs) // 5):
                    changed = None
            if changed is None:
                briefs = {paper.id: Brief(rowid, paper) for rowid, paper in self._read()}
                by_rowid = [None] * (max((b.rowid for b in briefs.values()), default=0) + 1)
                for pid, brief in briefs.items():
                    by_rowid[brief.rowid] = pid
                fresh: set[str] | None = None
            else:
                briefs = dict(previous.briefs)
                by_rowid = list(previous.by_rowid)
                fresh = set()
                reordered = False
                for rowid, paper in self._read(sorted(changed)):
                    if rowid >= len(by_rowid):
                        by_rowid.extend([None] * (rowid + 1 - len(by_rowid)))
                    old_id = by_rowid[rowid]
                    if old_id is not None and old_id != paper.id:  # re-keyed to a stronger id
                        briefs.pop(old_id, None)
                        fresh.add(old_id)
                        reordered = True
                    elif old_id is None and briefs and rowid < next(reversed(briefs.values())).rowid:
                        reordered = True
                    by_rowid[rowid] = paper.id
                    briefs[paper.id] = Brief(rowid, paper)
                    fresh.add(paper.id)
                if reordered:  # listings keep store order (rowid), as a full build has it
                    briefs = dict(sorted(briefs.items(), key=lambda kv: kv[1].rowid))
        new = self._index(briefs)
        new.by_rowid = by_rowid
        new.stamps = stamps
        new.signature = signature
        new.version = (previous.version if previous is not None else 0) + 1
        with self._cache_lock:  # whole papers that changed are read again when next shown
            if fresh is None:
                self._cache.clear()
            else:
                for pid in fresh:
                    self._cache.pop(pid, None)
        self._build_seconds = time.perf_counter() - started
        new.build_seconds = self._build_seconds
        new.patched = fresh is not None
        return new

    def _read(self, rowids: list[int] | None = None) -> Iterator[tuple[int, Paper]]:
        for rowid, paper, enrichments in self.store.iter_paper_rows(rowids):
            yield rowid, apply_enrichments(paper, enrichments, copy=False)

    def _index(self, briefs: dict[str, Brief]) -> _Version:
        """The listings of a set of briefs (in store order): topics, authors, keywords, newest first."""
        topics: dict[tuple, TopicInfo] = {}
        authors: dict[str, AuthorInfo] = {}
        keywords: dict[str, KeywordInfo] = {}
        no_topic: list[str] = []
        used_slugs: set[str] = set()
        slugs = self._slugs
        years: Counter = Counter()
        with_code = with_summary = 0
        for pid, brief in briefs.items():
            key = brief.topic
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
            for name in brief.authors:
                slug = slugs.get(name)
                if slug is None:
                    slug = slugs[name] = _intern(slugify(name))
                author = authors.get(slug)
                if author is None:
                    author = authors[slug] = AuthorInfo(slug, name)
                if not author.ids or author.ids[-1] != pid:
                    author.ids.append(pid)
            for norm, label in brief.keywords:
                kw = keywords.get(norm)
                if kw is None:
                    kw = keywords[norm] = KeywordInfo(norm, label)
                kw.ids.append(pid)
            years[brief.year] += 1
            with_code += brief.has_code
            with_summary += brief.has_summary
        newest = sorted(briefs, key=lambda pid: (briefs[pid].date, -briefs[pid].rowid), reverse=True)
        areas: dict[str | None, list[TopicInfo]] = defaultdict(list)
        for info in sorted(topics.values(), key=lambda t: (-len(t.ids), t.label)):
            areas[info.area].append(info)
        new = _Version()
        new.briefs = briefs
        new.newest = newest
        new.topics = {t.slug: t for t in topics.values()}
        new.topic_slug = {(t.area, t.label): t.slug for t in topics.values()}
        new.areas = dict(sorted(areas.items(), key=lambda kv: -sum(len(t.ids) for t in kv[1])))
        new.no_topic = no_topic
        new.authors = authors
        new.keywords = keywords
        new.memo = {}  # per-version results pages compute once (facets, rendered cards)
        new.stats = {"papers": len(briefs), "topics": len(topics), "authors": len(authors),
                     "with_code": with_code, "with_summary": with_summary, "years": years}
        return new

    def _load(self, ids: list[str]) -> dict[str, Paper]:
        """Whole effective papers by id: from the cache, the rest read from the store in one go."""
        found: dict[str, Paper] = {}
        missing: list[str] = []
        with self._cache_lock:
            for pid in ids:
                paper = self._cache.get(pid)
                if paper is None:
                    missing.append(pid)
                else:
                    self._cache.move_to_end(pid)
                    found[pid] = paper
        if missing:
            papers = {p.id: p for p in self.store.get_many(missing)}
            enrichments = self.store.enrichments_for_many(list(papers))
            read = {pid: apply_enrichments(p, enrichments.get(pid, {}), copy=False) for pid, p in papers.items()}
            found.update(read)
            with self._cache_lock:
                for pid, paper in read.items():
                    self._cache[pid] = paper
                while len(self._cache) > PAPER_CACHE:
                    self._cache.popitem(last=False)
        return found

    # -- lookups ----------------------------------------------------------------------------------
    def get(self, pid: str) -> Paper | None:
        return self.papers.get(pid)

    def brief(self, pid: str) -> Brief | None:
        return self.briefs.get(pid)

    def canonical_id(self, pid: str) -> str | None:
        if pid in self.briefs:
            return pid
        return self.store.resolve_id(pid)

    def coauthors(self, slug: str) -> list[tuple[AuthorInfo, int]]:
        counts: Counter[str] = Counter()
        for pid in self.authors[slug].ids:
            for name in self.briefs[pid].authors:
                other = self._slugs.get(name) or slugify(name)
                if other != slug:
                    counts[other] += 1
        return [(self.authors[s], n) for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def similar(self, pid: str, k: int = 6) -> tuple[str, str | None, list[dict]]:
        """(method, model, [{id, score, why}]) from paperlens.hybrid: embedding neighbours when vectors are
        stored, else shared words; each with a short reason."""
        from ..search import searcher_for

        items = [item for item in searcher_for(self.store).similar(pid, k=k) if item["id"] in self.briefs]
        model, _vector = self.store.embedding_of(pid)
        return ("embedding", model, items) if model else ("text", None, items)

    def similar_has_embeddings(self) -> bool:
        return self.store.has_embeddings()


def _earlier(stamp: str, seconds: int) -> str:
    """An updated_at stamp moved `seconds` back ('' stays '': everything is newer)."""
    if not stamp:
        return ""
    try:
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return ""
    return (moment - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

