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

import gc
import heapq
import logging
import threading
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar, Token
from datetime import datetime, timedelta
from pathlib import Path

from paperlens.core.clean import slugify
from paperlens.core.clock import STAMP_FORMAT, utcnow
from paperlens.core.models import SUMMARY_FIELDS, Paper
from paperlens.enrich.registry import load_steps
from paperlens.enrich.views import apply_enrichments
from paperlens.store import Store
from paperlens.web.brief_worker import BriefWorkers, worker_count
from paperlens.web.catalog_start import SnapshotStart
from paperlens.web.listings import AuthorInfo, Brief, KeywordInfo, TopicInfo, _Counts, _intern, _topic_slug
from paperlens.web.snapshot import SnapshotFile

# A write can commit a few seconds after the time it stamped on its rows; re-reading rows stamped this
# long before the last version's newest stamp means such a write is never missed.
LATE_COMMIT_S = 10
# Above this many changed papers (or a fifth of the catalog) a full rebuild is cheaper than patching.
PATCH_MAX = 50_000
# Every rebuild runs in a background thread. A request that finds the database changed waits this long
# for it (a small catalog is then seen at once), then answers from the current version; after a full
# build slower than BACKGROUND_BUILD_S no request waits at all.
QUICK_BUILD_WAIT_S = 0.5
BACKGROUND_BUILD_S = 2.0
# Per-version memo (filtered listings, facets, rendered cards): emptied when it reaches this many entries,
# so junk filter values in query strings cannot grow it without bound.
MEMO_MAX = 50_000
PAPER_CACHE = 2048  # whole papers kept for the pages that show them
PAPER_CACHE_BYTES = 64 * 2**20  # and at most about this many bytes of their text
# From this many papers a full build works out the briefs in child processes (brief_worker).
WORKERS_MIN_PAPERS = 100_000
# A catalog with a snapshot file (web/snapshot.py) saves a new version there at most this often.
SNAPSHOT_EVERY_S = 60.0

log = logging.getLogger(__name__)


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
        if self._catalog.previewing:  # the home page's preview: its ids are of papers in the snapshot
            wanted = list(ids)
        else:
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


class _Memo(dict):
    """A dict emptied when it reaches MEMO_MAX entries (a cache: anything in it can be computed again)."""

    def __setitem__(self, key, value) -> None:
        if len(self) >= MEMO_MAX and key not in self:
            self.clear()
        super().__setitem__(key, value)


class Catalog(SnapshotStart):
    """`snapshot`: a file to start from and save versions to (web/snapshot.py, catalog_start.py;
    create_app passes `<db>.catalog`); None keeps the catalog in memory only, built from the papers.
    `home`: pages.home_lists, saved with each version so a start can answer the home page first."""

    @staticmethod
    def _blank_version() -> tuple[_Version, _Memo]:
        """An empty version and memo, for catalog_start's home page preview."""
        return _Version(), _Memo()

    def __init__(self, store: Store, snapshot: str | Path | None = None, home: Callable | None = None):
        self.store = store
        self._lock = threading.Lock()
        self._checked = 0.0
        self._current: _Version | None = None
        self._building = False
        self._build_seconds = 0.0
        self._slugs: dict[str, str] = {}  # author name -> slug (slugify is the costly part of indexing)
        self._cache: OrderedDict[str, Paper] = OrderedDict()
        self._cache_sizes: dict[str, int] = {}
        self._cache_bytes = 0
        self._cache_lock = threading.Lock()
        self.papers = PaperView(self)
        self.search_background = False  # the kind of searcher `similar` asks for (the server's: background)
        self._start(SnapshotFile(Path(snapshot), SNAPSHOT_EVERY_S) if snapshot else None, home)

    def __getattr__(self, name: str):
        # Only reached for a version's fields (the instance itself holds the attributes set in __init__).
        current = self.__dict__.get("_current")
        pin = _PINNED.get()
        version = pin[1] if pin is not None and pin[0] is self else current
        try:
            return getattr(version, name)
        except AttributeError:
            pass
        if self.__dict__.get("_partial"):  # a field the home page's preview lacks: load the rest first
            self.wait_full()
            try:
                return getattr(self.__dict__["_current"], name)
            except AttributeError:
                pass
        raise AttributeError(name)

    @property
    def previewing(self) -> bool:
        """Whether the version this request sees is a home page preview (catalog_start.py)."""
        pin = _PINNED.get()
        version = pin[1] if pin is not None and pin[0] is self else self._current
        return hasattr(version, "preview_home")

    def pin(self) -> Token:
        """Make the current version the one this request (context) sees until `unpin`."""
        return _PINNED.set((self, self._current))

    @staticmethod
    def unpin(token: Token) -> None:
        _PINNED.reset(token)

    # -- freshness --------------------------------------------------------------------------------
    def due(self) -> bool:
        """Whether `refresh` would look at the database now (cheap: no SQLite, no lock): the server
        moves the call off its event loop only then."""
        return not self._building and not self._partial and time.monotonic() - self._checked >= 1.0

    def refresh(self) -> bool:
        """Catch up with the database when it changed; True when a new version is in place.

        The new version is always built in a background thread, never by the caller: the caller waits
        for it at most QUICK_BUILD_WAIT_S (so a small catalog is seen at once), then goes on with the
        current version while the build goes on; a catalog whose last full build was slow (over
        BACKGROUND_BUILD_S) is not waited for at all."""
        now = time.monotonic()
        if now - self._checked < 1.0 or self._building or self._partial:
            return False  # (while partial, the rest is being loaded and caught up: see catalog_start)
        if not self._lock.acquire(blocking=False):
            return False  # another request is checking or building: serve the current version
        try:
            if now - self._checked < 1.0 or self._building:
                return False
            self._checked = now
            if self.store.data_signature() == self.signature:
                return False
            self._building = True
            done = threading.Event()
            before = self._current
            threading.Thread(target=self._build_in_background, args=(done,), name="paperlens-catalog",
                             daemon=True).start()
        finally:
            self._lock.release()
        if self._build_seconds > BACKGROUND_BUILD_S:
            return False
        return done.wait(QUICK_BUILD_WAIT_S) and self._current is not before

    def wait_built(self, timeout: float = 60.0) -> None:
        """Wait for a background rebuild to finish (tests, benchmarks)."""
        end = time.monotonic() + timeout
        while self._building and time.monotonic() < end:
            time.sleep(0.01)

    def _build_in_background(self, done: threading.Event | None = None) -> None:
        try:
            self._current = self._next_version(self._current)
            self._save_snapshot()
        except Exception:  # a failed build keeps the current version; the next check tries again
            log.exception("catalog: rebuild failed; serving the previous version")
        finally:
            self.store.close_thread()  # this thread ends here: its SQLite connection goes with it
            self._building = False
            if done is not None:
                done.set()

    def _next_version(self, previous: _Version | None) -> _Version:
        # The enrichment steps' modules are imported on the first paper read (seconds, once per process):
        # done before the clock starts, so a small catalog is not taken for a slow one (never waited for).
        load_steps()
        started = time.perf_counter()
        # The signature is taken first: a commit landing before the snapshot starts then only costs one
        # more rebuild, never a missed change.
        signature = self.store.data_signature()
        read_at = utcnow()  # before the snapshot starts: everything committed by now is in it
        with self.store.read_snapshot():  # briefs of one committed state
            stamps = self.store.update_stamps()
            changed = None
            if previous is not None and previous.signature[-1:] == signature[-1:]:  # no paper removed
                since = [_earlier(s, LATE_COMMIT_S) for s in previous.stamps]
                if previous.saved_read_at:
                    # A version from the snapshot file, read at saved_read_at: a write stamped more than
                    # LATE_COMMIT_S before that had committed by then, so it is in the file already
                    # (without this, a server restarted soon after an ingest re-read its last seconds).
                    floor = _earlier(previous.saved_read_at, LATE_COMMIT_S)
                    since = [max(s, floor) for s in since]
                changed = self.store.changed_rowids(*since)
                if len(changed) > max(PATCH_MAX, len(previous.briefs) // 5):
                    changed = None
            if changed is None:
                new = self._full_build(signature[0] or 0)
            else:
                new = self._patch(previous, self._read(sorted(changed)))
        new.stamps = stamps
        new.signature = signature
        new.read_at, new.saved_read_at = read_at, ""
        new.version = (previous.version if previous is not None else 0) + 1
        with self._cache_lock:  # whole papers that changed are read again when next shown
            if not new.patched:
                self._cache.clear()
                self._cache_sizes.clear()
                self._cache_bytes = 0
            else:
                for pid in new.reread:
                    self._uncache(pid)
        new.build_seconds = time.perf_counter() - started
        if not new.patched:
            self._build_seconds = new.build_seconds
        # Out of the cyclic garbage collector's sight: a million briefs and their listings are many
        # millions of objects, and each full collection walking them stalled requests by 1-1.5 s. They
        # hold no reference cycles; reference counting still frees an old version once unused.
        gc.freeze()
        return new

    def _full_build(self, papers: int) -> _Version:
        workers = worker_count() if papers >= WORKERS_MIN_PAPERS else 0
        if workers:
            try:
                with BriefWorkers(workers) as pool:
                    # Small batches keep both sides busy: the child works while this process builds listings.
                    batches = pool.map(self.store.iter_raw_paper_rows(batch=250))
                    return self._full(Brief.from_fields(fields) for batch in batches for fields in batch)
            except (OSError, RuntimeError, ValueError) as exc:  # a child could not start or failed: do it here
                log.warning("catalog: brief workers failed (%s); building in this process", exc)
        return self._full((paper.id, Brief(rowid, paper)) for rowid, paper in self._read())

    def _read(self, rowids: list[int] | None = None) -> Iterator[tuple[int, Paper]]:
        for rowid, paper, enrichments in self.store.iter_paper_rows(rowids):
            yield rowid, apply_enrichments(paper, enrichments, copy=False)

    def _memberships(self, pid: str, brief: Brief) -> Iterator[tuple[str, object, str]]:
        """(kind, key, label) of every listing a paper is in."""
        if brief.topic is None:
            yield "no_topic", None, ""
        else:
            yield "topic", brief.topic, brief.topic[1]
        slugs = self._slugs
        for name in brief.authors:
            slug = slugs.get(name)
            if slug is None:
                slug = slugs[name] = _intern(slugify(name))
            yield "author", slug, name
        for norm, label in brief.keywords:
            yield "keyword", norm, label

    def _full(self, rows: Iterable[tuple[str, Brief]]) -> _Version:
        """A version from every paper's brief (in store order)."""
        briefs: dict[str, Brief] = {}
        by_rowid: list[str | None] = []
        topics: dict[tuple, TopicInfo] = {}
        authors: dict[str, AuthorInfo] = {}
        keywords: dict[str, KeywordInfo] = {}
        no_topic: list[str] = []
        counts = _Counts()
        used_slugs: set[str] = set()
        for pid, brief in rows:
            briefs[pid] = brief
            rowid = brief.rowid
            if rowid >= len(by_rowid):
                by_rowid.extend([None] * (rowid + 1 - len(by_rowid)))
            by_rowid[rowid] = pid
            counts.add(brief)
            for kind, key, label in self._memberships(pid, brief):
                if kind == "keyword":
                    info = keywords.get(key)
                    if info is None:
                        info = keywords[key] = KeywordInfo(key, label)
                    info.ids.append(pid)
                elif kind == "author":
                    info = authors.get(key)
                    if info is None:
                        info = authors[key] = AuthorInfo(key, label)
                    if not info.ids or info.ids[-1] != pid:
                        info.ids.append(pid)
                elif kind == "topic":
                    info = topics.get(key)
                    if info is None:
                        info = topics[key] = TopicInfo(_topic_slug(key, used_slugs), key[0], key[1])
                    info.ids.append(pid)
                else:
                    no_topic.append(pid)
        newest = sorted(briefs, key=lambda pid: (briefs[pid].date, -briefs[pid].rowid), reverse=True)
        new = self._version(briefs, by_rowid, topics, authors, keywords, no_topic, newest, counts)
        new.patched, new.reread = False, set()
        return new

    def _patch(self, previous: _Version, rows: Iterable[tuple[int, Paper]]) -> _Version:
        """The previous version with the re-read papers applied: only the listings they leave or join are
        copied and changed (an old version is never modified: requests may still hold it)."""
        briefs = dict(previous.briefs)
        by_rowid = list(previous.by_rowid)
        before: dict[str, Brief | None] = {}  # per changed id: its brief in the previous version
        reread: set[str] = set()
        reordered = False
        for rowid, paper in rows:
            pid = paper.id
            if rowid >= len(by_rowid):
                by_rowid.extend([None] * (rowid + 1 - len(by_rowid)))
            old_id = by_rowid[rowid]
            if old_id is not None and old_id != pid:  # re-keyed to a stronger id: the old id leaves
                before.setdefault(old_id, briefs.pop(old_id, None))
                reread.add(old_id)
                reordered = True
            elif old_id is None and briefs and rowid < next(reversed(briefs.values())).rowid:
                reordered = True
            by_rowid[rowid] = pid
            brief = Brief(rowid, paper)
            old = briefs.get(pid)
            before.setdefault(pid, old)
            briefs[pid] = old if old is not None and old == brief else brief
            reread.add(pid)
        if reordered:  # listings keep store order (rowid), as a full build has it
            briefs = dict(sorted(briefs.items(), key=lambda kv: kv[1].rowid))

        topics = {(t.area, t.label): t for t in previous.topics.values()}
        authors = dict(previous.authors)
        keywords = dict(previous.keywords)
        no_topic = previous.no_topic
        counts = previous.counts.copy()
        leave: dict[tuple, set[str]] = defaultdict(set)
        join: dict[tuple, list[str]] = defaultdict(list)
        labels: dict[tuple, str] = {}
        moved: list[str] = []
        for pid, old in before.items():
            now = briefs.get(pid)
            if old is now:
                continue
            if old is not None:
                counts.remove(old)
            if now is not None:
                counts.add(now)
            was = {(kind, key): label for kind, key, label in self._memberships(pid, old)} if old else {}
            goes = {(kind, key): label for kind, key, label in self._memberships(pid, now)} if now else {}
            for member in was.keys() - goes.keys():
                leave[member].add(pid)
            for member in goes.keys() - was.keys():
                join[member].append(pid)
                labels.setdefault(member, goes[member])
            if old is None or now is None or (old.date, old.rowid) != (now.date, now.rowid):
                moved.append(pid)

        def rowid_of(pid: str) -> int:
            return briefs[pid].rowid

        def patched(ids: list[str], gone: set[str], new: list[str]) -> list[str]:
            kept = [pid for pid in ids if pid not in gone] if gone else list(ids)
            new = sorted(new, key=rowid_of)
            if new and kept and rowid_of(kept[-1]) > rowid_of(new[0]):
                return sorted(kept + new, key=rowid_of)
            return kept + new

        used_slugs = {t.slug for t in previous.topics.values()}
        for member in leave.keys() | join.keys():
            kind, key = member
            gone, new = leave.get(member, set()), join.get(member, [])
            if kind == "no_topic":
                no_topic = patched(no_topic, gone, new)
                continue
            table = {"topic": topics, "author": authors, "keyword": keywords}[kind]
            info = table.get(key)
            ids = patched(info.ids if info else [], gone, new)
            if not ids:
                table.pop(key, None)
            elif info is None:
                if kind == "topic":
                    table[key] = TopicInfo(_topic_slug(key, used_slugs), key[0], key[1], ids)
                elif kind == "author":
                    table[key] = AuthorInfo(key, labels[member], ids)
                else:
                    table[key] = KeywordInfo(key, labels[member], ids)
            else:  # a copy: the previous version keeps its own
                table[key] = type(info)(*(getattr(info, f) for f in info.__dataclass_fields__ if f != "ids"), ids)

        newest = previous.newest
        if moved:
            gone = set(moved)
            newest = [pid for pid in newest if pid not in gone]
            arriving = sorted((pid for pid in moved if pid in briefs),
                              key=lambda pid: (briefs[pid].date, -briefs[pid].rowid), reverse=True)
            if arriving:
                newest = list(heapq.merge(newest, arriving, key=lambda pid: (briefs[pid].date, -briefs[pid].rowid),
                                          reverse=True))
        new = self._version(briefs, by_rowid, topics, authors, keywords, no_topic, newest, counts)
        new.patched, new.reread = True, reread
        return new

    @staticmethod
    def _version(briefs, by_rowid, topics, authors, keywords, no_topic, newest, counts) -> _Version:
        areas: dict[str | None, list[TopicInfo]] = defaultdict(list)
        for info in sorted(topics.values(), key=lambda t: (-len(t.ids), t.label, t.slug)):
            areas[info.area].append(info)
        new = _Version()
        new.briefs = briefs
        new.by_rowid = by_rowid
        new.newest = newest
        new.topics = {t.slug: t for t in topics.values()}
        new.topic_slug = {key: t.slug for key, t in topics.items()}
        new.areas = dict(sorted(areas.items(), key=lambda kv: -sum(len(t.ids) for t in kv[1])))
        new.no_topic = no_topic
        new.authors = authors
        new.keywords = keywords
        new.counts = counts
        new.memo = _Memo()  # per-version results pages compute once (facets, rendered cards)
        new.stats = {"papers": len(briefs), "topics": len(topics), "authors": len(authors),
                     "with_code": counts.with_code, "with_summary": counts.with_summary, "years": counts.years}
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
                    self._uncache(pid)
                    self._cache[pid] = paper
                    self._cache_sizes[pid] = size = _text_bytes(paper)
                    self._cache_bytes += size
                while self._cache and (len(self._cache) > PAPER_CACHE or self._cache_bytes > PAPER_CACHE_BYTES):
                    self._uncache(next(iter(self._cache)))
        return found

    def _uncache(self, pid: str) -> None:
        """Under self._cache_lock."""
        if self._cache.pop(pid, None) is not None:
            self._cache_bytes -= self._cache_sizes.pop(pid, 0)

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
        """(method, model, [{id, score, why}]) from paperlens.search.hybrid: embedding neighbours when vectors are
        stored, else shared words; each with a short reason."""
        from paperlens.search.query import searcher_for

        searcher = searcher_for(self.store, background=self.search_background)
        items = [item for item in searcher.similar(pid, k=k) if item["id"] in self.briefs]
        model, _vector = self.store.embedding_of(pid)
        return ("embedding", model, items) if model else ("text", None, items)

    def similar_has_embeddings(self) -> bool:
        return self.store.has_embeddings()


def _text_bytes(paper: Paper) -> int:
    """About what a cached paper holds: its longest texts (UTF-8-ish, one byte a character) and 2 kB of
    model overhead."""
    size = 2048 + len(paper.title) + len(paper.abstract or "") + len(paper.abstract_raw or "") + len(paper.tldr or "")
    size += sum(len(a) for a in paper.authors) + sum(len(k) for k in paper.keywords)
    for summary in paper.summary.values():
        size += sum(len(getattr(summary, f) or "") for f in SUMMARY_FIELDS)
    return size


def _earlier(stamp: str, seconds: int) -> str:
    """An updated_at stamp moved `seconds` back ('' stays '': everything is newer)."""
    if not stamp:
        return ""
    try:
        moment = datetime.strptime(stamp, STAMP_FORMAT)
    except ValueError:
        return ""
    return (moment - timedelta(seconds=seconds)).strftime(STAMP_FORMAT)

