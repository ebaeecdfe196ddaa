"""The web catalog saved beside the database (`<db>.catalog`), so a server starts from it instead of
reading and parsing every paper again: at 100k papers that first full build took seconds, loading the
saved catalog a fraction of one, and its head alone a few milliseconds.

The file is derived and may be deleted at any time. Layout: MAGIC, the code fingerprint and a newline,
the head's length (8 bytes, little-endian), then head and body, each as a BLAKE2b digest followed by
`marshal` data (plain values only: loading it runs no code, unlike pickle; equal values stay shared).
The head holds what the version was built at (change stamps, signature, when its SQLite snapshot was
read), sixteen (rowid, id) pairs to recognise the database by, and what the home page shows; the body
its briefs, listings and counts. catalog_start.py decides what a start does with it. The file is ignored
(and the catalog built from the papers, then saved again) when:

* it is from other code: the header holds FORMAT and a digest of the modules that make briefs, listings
  and the home page's lists, so any change to them (or to this layout) starts over;
* it is truncated or corrupt (digests are checked before anything is loaded): with a warning, no crash;
* it is from another database, or from this one before papers were removed or rolled back: the schema
  version, the number of removed papers, the max rowid, the stamps and the sampled pairs must still hold.

It is written to a temporary file and renamed, so a reader never sees half of one, and a reader keeps the
file it opened until it has read the body. Where the directory cannot be written (a read-only
deployment) the catalog just stays in memory."""

from __future__ import annotations

import gc
import hashlib
import io
import logging
import marshal
import os
import struct
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import paperlens
from paperlens.web.listings import AuthorInfo, Brief, KeywordInfo, TopicInfo, _Counts

log = logging.getLogger(__name__)

FORMAT = 1
MAGIC = b"PLCATALOG\n"
DIGEST = 32  # bytes of blake2b over the body
# The modules whose code decides what a saved catalog holds: a change to any of them makes old files stale.
_SOURCES = ("web/brief.py", "web/listings.py", "web/snapshot.py", "web/catalog.py", "web/catalog_start.py",
            "web/pages.py", "enrich/views.py", "enrich/registry.py", "enrich/models/tags.py", "core/words.py",
            "core/clean.py", "core/models.py")
SAMPLES = 16  # (rowid, id) pairs checked against the database on loading
RECORD = 50_000  # values per record of the body (what a save or a load holds of the file at a time)


class SnapshotError(ValueError):
    """The file is not a usable snapshot (truncated, corrupt, or another layout)."""


def snapshot_path(db_path: str | os.PathLike[str]) -> Path:
    db = Path(db_path)
    return db.with_name(f"{db.name}.catalog")


_FINGERPRINT: bytes | None = None


def fingerprint() -> bytes:
    """FORMAT, the package version and a digest of the code that makes briefs and listings."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        digest = hashlib.blake2b(digest_size=16)
        digest.update(f"{FORMAT}:{paperlens.__version__}:{marshal.version}".encode())
        root = Path(paperlens.__file__).parent
        for name in _SOURCES:
            digest.update(name.encode())
            try:
                digest.update((root / name).read_bytes())
            except OSError:
                digest.update(b"-")
        _FINGERPRINT = digest.hexdigest().encode()
    return _FINGERPRINT


def encode_parts(version: Any, schema: int, build_seconds: float = 0.0, home: dict | None = None) -> Iterator[bytes]:
    """A catalog version (catalog._Version) as the file's bytes, a part at a time (written as they come,
    so a save holds one record's values at a time, not a copy of the catalog): the header, the small head
    (what the version was built from, how to check it against the database, and `home`, what the home
    page lists: pages.home_lists), then the body as records of at most RECORD values (briefs, then the
    listings as rowids, then the counts), each with its digest, and an empty record at the end.
    `build_seconds`: how long the last full build from the papers took."""
    head = {
        "schema": schema,
        "build_seconds": float(build_seconds),
        "stamps": tuple(version.stamps),
        "read_at": version.read_at,  # when its SQLite snapshot was taken (catalog._next_version)
        "signature": tuple(version.signature),
        "samples": samples(version.by_rowid),
        "rows": len(version.by_rowid),
        "home": _home_values(home) if home is not None else None,
    }
    head_bytes = marshal.dumps(head, 4)
    yield b"".join((MAGIC, fingerprint(), b"\n", struct.pack("<Q", len(head_bytes)), _digest(head_bytes), head_bytes))
    for record in _records(version):
        data = marshal.dumps(record, 4)
        yield struct.pack("<Q", len(data)) + _digest(data) + data
    yield struct.pack("<Q", 0)


def encode(version: Any, schema: int, build_seconds: float = 0.0, home: dict | None = None) -> bytes:
    return b"".join(encode_parts(version, schema, build_seconds, home))


def _records(version: Any) -> Iterator[tuple]:
    """The body's records. Papers appear by id in the briefs records only; listings hold rowids, turned
    back into the briefs' own id strings on loading (so the ids are stored, and loaded, once)."""
    briefs = version.briefs
    chunk: list = []
    for pid, brief in briefs.items():
        chunk.append((pid, *brief._fields()))
        if len(chunk) >= RECORD:
            yield ("briefs", chunk)
            chunk = []
    if chunk:
        yield ("briefs", chunk)

    def rowids(ids: list[str]) -> list[int]:
        return [briefs[pid].rowid for pid in ids]

    for kind, ids in (("newest", version.newest), ("no_topic", version.no_topic)):
        for start in range(0, len(ids), RECORD):
            yield (kind, rowids(ids[start:start + RECORD]))
    for kind, infos in (("topics", [(t.area, t.label, t.slug, t.ids) for t in version.topics.values()]),
                        ("authors", [(a.slug, a.name, a.ids) for a in version.authors.values()]),
                        ("keywords", [(k.norm, k.label, k.ids) for k in version.keywords.values()])):
        chunk, size = [], 0
        for *fields, ids in infos:
            chunk.append((*fields, rowids(ids)))
            size += len(ids) + 1
            if size >= RECORD:
                yield (kind, chunk)
                chunk, size = [], 0
        if chunk:
            yield (kind, chunk)
    counts = version.counts
    yield ("counts", (list(counts.years.items()), list(counts.year_topics.items()),
                      [(norm, list(c.items())) for norm, c in counts.keyword_years.items()],
                      counts.with_code, counts.with_summary))


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST).digest()


def _checked(digest: bytes, data: bytes, what: str) -> Any:
    if len(digest) < DIGEST or _digest(data) != digest:
        raise SnapshotError(f"truncated or corrupt (the digest of its {what} does not match)")
    try:
        return marshal.loads(data)
    except (EOFError, ValueError, TypeError) as exc:
        raise SnapshotError(f"unreadable {what}: {exc}") from None


def read_head(handle: BinaryIO) -> dict[str, Any] | None:
    """The head of the file open in `handle` (left at the body), or None when other code wrote it.
    Raises SnapshotError when it is damaged."""
    header = MAGIC + fingerprint() + b"\n"
    start = handle.read(len(header))
    if start[:len(MAGIC)] != MAGIC:
        raise SnapshotError("not a paperlens catalog snapshot")
    if start != header:
        return None  # other code wrote it: stale, not damaged
    size = handle.read(8)
    if len(size) < 8:
        raise SnapshotError("truncated")
    (length,) = struct.unpack("<Q", size)
    digest = handle.read(DIGEST)
    head = _checked(digest, handle.read(min(length, 2**26)), "head")
    if not isinstance(head, dict) or not {"schema", "stamps", "signature", "samples", "read_at"} <= head.keys():
        raise SnapshotError("unexpected contents")
    return head


def read_records(handle: BinaryIO) -> Iterator[tuple]:
    """The body's records after read_head, each checked against its digest before it is loaded. Raises
    SnapshotError when one is damaged or the end record is missing (a truncated file)."""
    while True:
        size = handle.read(8)
        if len(size) < 8:
            raise SnapshotError("truncated (no end record)")
        (length,) = struct.unpack("<Q", size)
        if not length:
            return
        digest = handle.read(DIGEST)
        record = _checked(digest, handle.read(min(length, 2**31)), "body")
        if not isinstance(record, tuple) or not record or not isinstance(record[0], str):
            raise SnapshotError("unexpected contents")
        yield record


def decode(data: bytes) -> dict[str, Any] | None:
    """Head and briefs of a whole file in one dict (tests, tools), or None when other code wrote it."""
    handle = io.BytesIO(data)
    head = read_head(handle)
    if head is None:
        return None
    return {**head, "briefs": [item for kind, *rest in read_records(handle) if kind == "briefs" for item in rest[0]]}


def samples(by_rowid: list) -> dict[int, str]:
    """(rowid -> id) pairs spread over a catalog, the newest row among them."""
    rows = [i for i in range(0, len(by_rowid), max(1, len(by_rowid) // SAMPLES)) if by_rowid[i] is not None]
    last = next((i for i in range(len(by_rowid) - 1, -1, -1) if by_rowid[i] is not None), None)
    if last is not None:
        rows.append(last)
    return {i: by_rowid[i] for i in rows}


def _home_values(home: dict) -> dict:
    """pages.home_lists' values as plain ones (topic, author and keyword listings by their size only)."""
    stats = dict(home["stats"])
    stats["years"] = list(stats.get("years", {}).items())
    return {"areas": [(area, [(t.slug, t.area, t.label, len(t.ids)) for t in infos])
                      for area, infos in home["areas"].items()],
            "no_topic": home["no_topic"], "stats": stats, "recent_ids": list(home["recent_ids"]),
            "top_keywords": [(k.norm, k.label, len(k.ids)) for k in home["top_keywords"]],
            "top_authors": [(a.slug, a.name, len(a.ids)) for a in home["top_authors"]]}


def home_lists(values: dict) -> dict:
    """pages.home_lists' values back from _home_values: each listing's ids stand in as a range of its
    length (all the home page shows of them)."""
    stats = dict(values["stats"])
    stats["years"] = Counter(dict(stats["years"]))
    return {"areas": {area: [TopicInfo(slug, a, label, range(n)) for slug, a, label, n in infos]
                      for area, infos in values["areas"]},
            "no_topic": values["no_topic"], "stats": stats, "recent_ids": list(values["recent_ids"]),
            "top_keywords": [KeywordInfo(norm, label, range(n)) for norm, label, n in values["top_keywords"]],
            "top_authors": [AuthorInfo(slug, name, range(n)) for slug, name, n in values["top_authors"]]}


def restore(records: Iterator[tuple], rows: int) -> tuple:
    """The arguments of Catalog._version (briefs, by_rowid, topics, authors, keywords, no_topic, newest,
    counts) from the body's records (`rows`: the head's length of by_rowid). Raises SnapshotError (or
    KeyError, TypeError, ValueError, IndexError) when the values are not what encode wrote."""
    briefs: dict = {}
    by_rowid: list = [None] * rows
    topics: dict = {}
    authors: dict = {}
    keywords: dict = {}
    no_topic: list = []
    newest: list = []
    counts = None
    # The cyclic collector is held off while the values become briefs: a hundred thousand new objects
    # set off full collections, each walking everything loaded so far (a third of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for kind, values in records:
            if kind == "briefs":
                for item in values:
                    brief = briefs[item[0]] = Brief.restored(item)
                    by_rowid[brief.rowid] = item[0]
            elif kind in ("newest", "no_topic"):
                (newest if kind == "newest" else no_topic).extend([by_rowid[r] for r in values])
            elif kind == "topics":
                for area, label, slug, ids in values:
                    topics[(area, label)] = TopicInfo(slug, area, label, [by_rowid[r] for r in ids])
            elif kind == "authors":
                for slug, name, ids in values:
                    authors[slug] = AuthorInfo(slug, name, [by_rowid[r] for r in ids])
            elif kind == "keywords":
                for norm, label, ids in values:
                    keywords[norm] = KeywordInfo(norm, label, [by_rowid[r] for r in ids])
            elif kind == "counts":
                years, year_topics, keyword_years, with_code, with_summary = values
                counts = _Counts()
                counts.years, counts.year_topics = Counter(dict(years)), Counter(dict(year_topics))
                counts.keyword_years = {norm: Counter(dict(items)) for norm, items in keyword_years}
                counts.with_code, counts.with_summary = int(with_code), int(with_summary)
            else:
                raise SnapshotError(f"unexpected record {kind!r}")
    finally:
        if collecting:
            gc.enable()
    if counts is None or None in newest or None in no_topic:
        raise SnapshotError("unexpected contents")
    return briefs, by_rowid, topics, authors, keywords, no_topic, newest, counts


class SnapshotFile:
    """One catalog's snapshot file: its head checked against the database, its body loaded (at once or
    later, from the same open file even if another process saved a new one meanwhile), and versions saved
    to it in a background thread, at most once every `every` seconds."""

    def __init__(self, path: Path, every: float):
        self.path: Path | None = path  # None once it turned out unwritable
        self.every = every
        self._handle: BinaryIO | None = None  # the file whose head was read, until its body is
        self._saver: threading.Thread | None = None
        self._saved_at: float | None = None  # monotonic time of the last save
        self._saved_key: tuple | None = None  # what the file holds: (stamps, max rowid, removals)

    def load_head(self, store) -> dict[str, Any] | None:
        """The head when the file describes this database as it is now or was earlier (with
        "unchanged": True when nothing was written since); else None (warned when damaged)."""
        path = self.path
        if path is None:
            return None
        try:
            handle = open(path, "rb")  # noqa: SIM115 - kept open until the body is read
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("catalog snapshot %s could not be read (%s); building the catalog from the papers", path, exc)
            return None
        try:
            head = read_head(handle)
            if head is None:
                log.info("catalog snapshot %s is from another version of paperlens; building it again", path)
            elif self._check(head, store):
                self._handle, handle = handle, None
                return head
        except SnapshotError as exc:
            log.warning("catalog snapshot %s ignored: %s; building the catalog from the papers", path, exc)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            log.warning("catalog snapshot %s ignored: unexpected contents (%s); building the catalog from the papers",
                        path, exc)
        finally:
            if handle is not None:
                handle.close()
        return None

    def _check(self, head: dict[str, Any], store) -> bool:
        with store.read_snapshot():
            schema = store.schema_version()
            signature = store.data_signature()
            stamps = store.update_stamps()
            wanted = dict(head["samples"])
            found = store.rowid_ids(list(wanted))
        saved = head["signature"]
        older = any(now < then for now, then in zip(stamps, head["stamps"], strict=True))
        why = ("the database schema changed" if schema != head["schema"] else
               "papers were removed" if signature[-1:] != saved[-1:] else
               "the database has fewer papers" if (signature[0] or 0) < (saved[0] or 0) else
               "the database is older than it" if older else
               "it is from another database" if found != wanted else "")
        if why:
            log.info("catalog snapshot %s not used: %s; building the catalog from the papers", self.path, why)
            return False
        head["unchanged"] = signature[0] == saved[0] and tuple(stamps) == tuple(head["stamps"])
        self._saved_key = (tuple(head["stamps"]), saved[0], saved[-1])
        return True

    def load_body(self, head: dict[str, Any]) -> tuple | None:
        """catalog._version's arguments from the body of the file load_head accepted (`head`); None
        (warned) when it is damaged."""
        handle, self._handle = self._handle, None
        if handle is None:
            return None
        try:
            return restore(read_records(handle), int(head["rows"]))
        except (SnapshotError, OSError, KeyError, TypeError, ValueError, IndexError) as exc:
            log.warning("catalog snapshot %s ignored: %s; building the catalog from the papers", self.path, exc)
            self._saved_key = None
            return None
        finally:
            handle.close()

    def save(self, version: Any, store, build_seconds: float, home=None) -> None:
        """Save `version` in a background thread, unless the file holds it already, a save is under way,
        or the last one was under `every` seconds ago (the next start then patches in a few more papers).
        `home`: pages.home_lists, whose values for the version go in the head."""
        path = self.path
        key = (tuple(version.stamps), version.signature[0], version.signature[-1])
        if path is None or key == self._saved_key or (self._saver is not None and self._saver.is_alive()):
            return
        if self._saved_at is not None and time.monotonic() - self._saved_at < self.every:
            return
        if not writable(path):
            log.warning("catalog snapshot %s: no write access; the catalog is kept in memory only", path)
            self.path = None
            return
        self._saved_at = time.monotonic()
        self._saver = threading.Thread(target=self._write, args=(path, version, store, build_seconds, home, key),
                                       name="paperlens-catalog-snapshot", daemon=True)
        self._saver.start()

    def _write(self, path: Path, version: Any, store, build_seconds: float, home, key: tuple) -> None:
        try:
            parts = encode_parts(version, store.schema_version(), build_seconds, home(version) if home else None)
            try:
                mode = os.stat(store.path).st_mode
            except OSError:
                mode = 0o644
            write(path, parts, mode)
            self._saved_key = key
        except Exception as exc:  # a disk full or gone: serving goes on, the next start builds from papers
            log.warning("catalog snapshot %s could not be saved: %s", path, exc)
        finally:
            store.close_thread()  # this thread ends here: its SQLite connection goes with it

    def finish(self, timeout: float = 60.0) -> None:
        """Wait for a save under way."""
        saver = self._saver
        if saver is not None:
            saver.join(timeout)


def writable(path: Path) -> bool:
    return os.access(path, os.W_OK) if path.exists() else os.access(path.parent, os.W_OK)


def write(path: Path, parts: Iterable[bytes], mode: int = 0o644) -> None:
    """Replace `path` with the bytes of `parts` in one rename (a reader sees the old file or the new one);
    `mode`: its permissions (the catalog passes the database's, so whoever may read that may read this)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in parts:
                handle.write(part)
        os.chmod(tmp, mode & 0o666)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
