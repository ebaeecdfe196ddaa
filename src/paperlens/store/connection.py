"""Connections to a paperlens database: one per thread, WAL and the pragmas for writing, read-only mode
(`readonly_uri`), transactions, read snapshots, the commit counter, and the errors a user can act on."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from paperlens.core import clock

DEFAULT_DB = "paperlens.db"
# Reads through a memory map share the OS page cache across connections (one per thread): uncached
# /api/search at 20 clients went from 0.46x to 0.58x of one client's rate at 100k papers (bench/limits.py).
MMAP_BYTES = 1 << 30
# A paper's row (its JSON, provenance and columns) is 2 to 3 KB: in 4 KiB pages (SQLite's default) one
# fits a page and a third of each page is left empty; 8 KiB pages hold three. A new database is made with
# them: 20k arXiv papers take 108 -> 97 MB, and writing them 1.56 -> 1.46 s CPU (store.ingest_prepared).
PAGE_BYTES = 8192


def utcnow() -> str:
    """The time every write is stamped with (core.clock's stamp). Callers use `connection.utcnow()` so
    tests can fix it."""
    return clock.utcnow()


class DatabaseNotWritable(sqlite3.OperationalError):
    """A command that writes met a read-only file, directory or disk, or a full disk (message: one sentence)."""


def readonly_uri(path: str | os.PathLike[str]) -> str:
    """The SQLite URI that opens `path` read-only (`mode=ro`). `immutable=1` is added only when no writer
    can exist: no -wal file beside it and a directory this process cannot write (a read-only mount or
    directory), where a WAL database could not be opened otherwise (its -shm file cannot be created).
    An immutable database is read without locks and never re-checked for changes."""
    target = Path(path).absolute()
    uri = target.as_uri() + "?mode=ro"
    wal = target.with_name(target.name + "-wal")
    if target.exists() and not wal.exists() and not os.access(target.parent, os.W_OK):
        uri += "&immutable=1"
    return uri


def db_error_message(exc: BaseException, path: str | os.PathLike[str]) -> str | None:
    """One sentence for the SQLite errors a user can act on (read-only, full disk, cannot open, not a
    database, a damaged file); None for any other error."""
    text = str(exc).lower()
    if "readonly database" in text or "read-only" in text:
        return (f"{path}: the database is read-only (its file, directory or disk cannot be written); "
                "this command writes, so it needs write access")
    if "disk is full" in text or "disk i/o error" in text:
        return f"{path}: the disk is full or failing, so nothing more could be written (nothing half-written is kept)"
    if "unable to open database file" in text:
        return (f"{path}: cannot open the database for writing (is its directory read-only? SQLite needs to "
                "create the -wal and -shm files beside it)")
    if "file is not a database" in text:
        return f"{path}: this file is not a SQLite database"
    if "malformed" in text:  # "database disk image is malformed": a truncated or overwritten file
        return (f"{path}: the database file is damaged (SQLite: {exc}); nothing was changed. Restore it from a "
                f"copy, or save what can be read with `sqlite3 {path} .recover | sqlite3 recovered.db`")
    return None


class Transaction:
    """`with db.transaction():` BEGIN IMMEDIATE, then COMMIT, or ROLLBACK on an exception."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")
        return False


class Database:
    """The file and its connections, shared by the repositories of one Store. Thread-safe for readers;
    one writer at a time (SQLite's rule). `local` is this thread's state (its connection, and what an
    ingest in progress keeps between batches)."""

    def __init__(self, path: str | os.PathLike[str], readonly: bool = False):
        self.path = str(path)
        self.readonly = readonly
        self.local = threading.local()
        self._watch: sqlite3.Connection | None = None  # only reads PRAGMA data_version (see data_version)
        self._watch_lock = threading.Lock()

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self.local, "conn", None)
        if conn is None:
            if self.readonly:
                # Never a write, never a journal_mode switch: a read-only file, directory or disk serves.
                conn = sqlite3.connect(readonly_uri(self.path), uri=True, check_same_thread=False)
            else:
                conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                try:
                    # Only a new, empty file takes it (and only before it is in WAL mode); an existing one
                    # keeps the page size it was made with.
                    conn.execute(f"PRAGMA page_size={PAGE_BYTES}")
                    conn.execute("PRAGMA journal_mode=WAL")
                except sqlite3.OperationalError as exc:
                    conn.close()
                    raise DatabaseNotWritable(db_error_message(exc, self.path) or str(exc)) from exc
                conn.execute("PRAGMA synchronous=NORMAL")
                # Bigger page cache for the key index and FTS merges during large ingests (bounded: 64 MiB).
                conn.execute("PRAGMA cache_size=-65536")
                conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            conn.row_factory = sqlite3.Row
            self.local.conn = conn
        return conn

    def close_thread(self) -> None:
        """Close this thread's connection only: a short-lived thread that read (a catalog build, an index
        sync) calls it before it ends, else its connection (and file descriptors) would outlive it."""
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            conn.close()
            self.local.conn = None

    def close(self) -> None:
        self.close_thread()
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None

    def transaction(self) -> Transaction:
        return Transaction(self.conn)

    @contextmanager
    def bulk_writing(self) -> Iterator[None]:
        """While ingesting: a bigger page cache (the key and author indexes take random inserts) and
        fewer, larger WAL checkpoints. Both grow only as used, and go back to normal after."""
        conn = self.conn
        cache, checkpoint = (conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("cache_size", "wal_autocheckpoint"))
        conn.execute("PRAGMA cache_size=-262144")  # 256 MiB
        conn.execute("PRAGMA wal_autocheckpoint=10000")  # pages: about 80 MiB of WAL (8 KiB pages)
        fts = _fts_hash_size(conn, FTS_BULK_HASH_BYTES)
        try:
            yield
        finally:
            conn.execute(f"PRAGMA cache_size={int(cache)}")
            conn.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint)}")
            if fts:
                _fts_hash_size(conn, None)

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """Reads inside see one committed state of the database (one WAL snapshot), however many
        statements they take; writers in other processes go on meanwhile."""
        conn = self.conn
        if conn.in_transaction:  # already inside one (nested use): that snapshot holds
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT" if conn.in_transaction else "SELECT 1")

    def data_version(self) -> int:
        """PRAGMA data_version of a connection kept for it: it moves whenever another connection commits."""
        with self._watch_lock:
            if self._watch is None:
                self._watch = (sqlite3.connect(readonly_uri(self.path), uri=True, check_same_thread=False)
                               if self.readonly else sqlite3.connect(self.path, check_same_thread=False))
            version: int = self._watch.execute("PRAGMA data_version").fetchone()[0]
            return version

    def has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                 (name,)).fetchone() is not None

    def integrity_check(self) -> str:
        """'ok', or what SQLite found wrong (the tables, then the full-text index)."""
        result: str = self.conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            return result
        try:
            self.conn.execute("INSERT INTO papers_fts (papers_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as exc:
            return f"full-text index: {exc}"
        return "ok"


# While ingesting, the full-text index keeps up to this much of its pending terms in memory before it
# writes them out as a segment: 1 MiB (FTS5's default) made two or three small segments of every
# 2,000-paper batch, each merged again later; 8 MiB makes one (FTS CPU 0.82 -> 0.58 s for 20k papers).
FTS_BULK_HASH_BYTES = 8 << 20


def _fts_hash_size(conn: sqlite3.Connection, size: int | None) -> bool:
    """Set papers_fts's 'hashsize'; None puts back the default and removes the setting from the file
    (FTS5 keeps every setting in papers_fts_config: the database is left as it would be without)."""
    try:
        conn.execute("INSERT INTO papers_fts (papers_fts, rank) VALUES ('hashsize', ?)",
                     (size or 1 << 20,))
        if size is None:
            conn.execute("DELETE FROM papers_fts_config WHERE k = 'hashsize'")
    except sqlite3.OperationalError:  # no full-text index yet, or an SQLite without the setting
        return False
    return True


def scalar(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
    """The first column of the first row (None when there is no row)."""
    row = conn.execute(sql, params).fetchone()
    return None if row is None else row[0]
