"""The web catalog saved beside the database (`<db>.catalog`), so a server starts from it instead of
reading and parsing every paper again: at 100k papers that first full build took seconds, loading the
saved catalog a fraction of one.

The file is derived and may be deleted at any time. It holds one catalog version (its briefs, listings
and counts, as plain values) and the change stamps it was built at; on loading, the catalog reads only
the papers written or enriched since then (the same catch-up it does while serving) and saves itself
again later. The file is ignored (and the catalog built from the papers) when:

* it is from other code: the header holds FORMAT and a digest of the modules that make briefs and
  listings, so any change to them (or to this layout) starts over;
* it is truncated or corrupt (a digest of its body is checked first), with a warning, never a crash;
* it is from another database, or from this one before papers were removed or rolled back: the schema
  version, the number of removed papers, a sample of (rowid, id) pairs and the stamps must still hold.

It is written to a temporary file and renamed, so a reader never sees half of one. Where the directory
cannot be written (a read-only deployment) the catalog just stays in memory. The body is `marshal`
data (plain values only: loading it runs no code, unlike pickle), which keeps equal values shared."""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import paperlens

log = logging.getLogger(__name__)

FORMAT = 1
MAGIC = b"PLCATALOG\n"
DIGEST = 32  # bytes of blake2b over the body
# The modules whose code decides what a saved catalog holds: a change to any of them makes old files stale.
_SOURCES = ("web/brief.py", "web/listings.py", "web/snapshot.py", "web/catalog.py", "enrich/views.py",
            "enrich/models/tags.py", "core/words.py", "core/clean.py", "core/models.py")
SAMPLES = 16  # (rowid, id) pairs checked against the database on loading


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


def encode(version: Any, schema: int, build_seconds: float = 0.0) -> bytes:
    """A catalog version (catalog._Version) as the file's bytes; `build_seconds`: how long the last full
    build from the papers took (the catalog's guide to whether requests wait for a rebuild)."""
    counts = version.counts
    body = {
        "schema": schema,
        "build_seconds": float(build_seconds),
        "stamps": tuple(version.stamps),
        "read_at": version.read_at,  # when its SQLite snapshot was taken (catalog._next_version)
        "signature": tuple(version.signature),
        "briefs": [(pid, *b._fields()) for pid, b in version.briefs.items()],
        "by_rowid": version.by_rowid,
        "newest": version.newest,
        "topics": [(t.area, t.label, t.slug, t.ids) for t in version.topics.values()],
        "authors": [(a.slug, a.name, a.ids) for a in version.authors.values()],
        "keywords": [(k.norm, k.label, k.ids) for k in version.keywords.values()],
        "no_topic": version.no_topic,
        "counts": (list(counts.years.items()), list(counts.year_topics.items()),
                   [(norm, list(c.items())) for norm, c in counts.keyword_years.items()],
                   counts.with_code, counts.with_summary),
    }
    payload = marshal.dumps(body, 4)
    header = MAGIC + fingerprint() + b"\n"
    return header + hashlib.blake2b(payload, digest_size=DIGEST).digest() + payload


def decode(data: bytes) -> dict[str, Any] | None:
    """The saved values, or None when the file is from other code. Raises SnapshotError when damaged."""
    header = MAGIC + fingerprint() + b"\n"
    if not data.startswith(MAGIC):
        raise SnapshotError("not a paperlens catalog snapshot")
    if not data.startswith(header):
        return None  # other code wrote it: stale, not damaged
    digest, payload = data[len(header):len(header) + DIGEST], data[len(header) + DIGEST:]
    if len(digest) < DIGEST or hashlib.blake2b(payload, digest_size=DIGEST).digest() != digest:
        raise SnapshotError("truncated or corrupt (its digest does not match)")
    try:
        body = marshal.loads(payload)
    except (EOFError, ValueError, TypeError) as exc:
        raise SnapshotError(f"unreadable: {exc}") from None
    if not isinstance(body, dict) or not {"schema", "stamps", "signature", "briefs"} <= body.keys():
        raise SnapshotError("unexpected contents")
    return body


def samples(body: dict[str, Any]) -> dict[int, str]:
    """(rowid -> id) pairs spread over the saved catalog, the newest row among them."""
    by_rowid = body["by_rowid"]
    rows = [i for i in range(0, len(by_rowid), max(1, len(by_rowid) // SAMPLES)) if by_rowid[i] is not None]
    last = next((i for i in range(len(by_rowid) - 1, -1, -1) if by_rowid[i] is not None), None)
    if last is not None:
        rows.append(last)
    return {i: by_rowid[i] for i in rows}


def counters(saved: tuple) -> tuple[Counter, Counter, dict[str, Counter], int, int]:
    years, year_topics, keyword_years, with_code, with_summary = saved
    return (Counter(dict(years)), Counter(dict(year_topics)),
            {norm: Counter(dict(items)) for norm, items in keyword_years}, with_code, with_summary)


def read(path: Path) -> dict[str, Any] | None:
    """The snapshot in `path`, or None when there is none, it is stale, or it is damaged (warned)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("catalog snapshot %s could not be read (%s); building the catalog from the papers", path, exc)
        return None
    try:
        body = decode(data)
    except SnapshotError as exc:
        log.warning("catalog snapshot %s ignored: %s; building the catalog from the papers", path, exc)
        return None
    if body is None:
        log.info("catalog snapshot %s is from another version of paperlens; building it again", path)
    return body


def writable(path: Path) -> bool:
    return os.access(path, os.W_OK) if path.exists() else os.access(path.parent, os.W_OK)


def write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one rename (a reader sees the old file or the new one)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
