"""`Store`: the facade over one paperlens database. It opens the file (and migrates it unless read-only)
and hands each call to the repository that owns that part of the schema:

    connection.Database        connections, WAL, read-only mode, transactions, snapshots
    migrations                 MIGRATIONS and the runner
    writer.PaperWriter         ingest and merge (keys.py: paper_keys; suspects.py: merges to split)
    papers.PaperReader         reading papers, full-text search, filters, stats
    enrichments.EnrichmentRepository, embeddings.EmbeddingRepository, llm_ledger.LlmLedger
    changes.ChangeTracker      what changed, for readers that keep copies

All SQL of paperlens lives in this package. Callers use `Store`; the repositories are its attributes too
(`store.papers`, `store.enrichments`, ...), for code inside the store package and its tests."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperlens.store import migrations, suspects
from paperlens.store.changes import ChangeTracker
from paperlens.store.connection import (
    DEFAULT_DB,
    Database,
    DatabaseNotWritable,
    Transaction,
    db_error_message,
    readonly_uri,
    utcnow,
)
from paperlens.store.embeddings import EmbeddingRepository
from paperlens.store.enrichments import EnrichmentRepository, RawBatch
from paperlens.store.llm_ledger import LlmLedger
from paperlens.store.migrations import MIGRATIONS
from paperlens.store.papers import Filters, PaperReader
from paperlens.store.profiles import ProfilesMixin
from paperlens.store.rows import (
    ENRICHMENT_COLUMNS,
    IngestResult,
    PreparedPaper,
    keyword_norm,
    parse_paper_rows,
    prepare,
)
from paperlens.store.writer import PaperWriter

if TYPE_CHECKING:
    import numpy as np

    from paperlens.core.models import Paper
    from paperlens.store.rows import PaperView

__all__ = [
    "DEFAULT_DB", "ENRICHMENT_COLUMNS", "MIGRATIONS", "DatabaseNotWritable", "IngestResult", "PreparedPaper",
    "Store", "db_error_message", "keyword_norm", "parse_paper_rows", "prepare", "readonly_uri", "utcnow",
]


class Store(ProfilesMixin):
    """A paperlens database. Thread-safe for readers; one writer at a time (SQLite's rule)."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_DB, *, readonly: bool = False):
        self.db = Database(path, readonly)
        self.path = self.db.path
        self.readonly = readonly
        self.papers = PaperReader(self.db)
        self.writer = PaperWriter(self.db)
        self.enrichments = EnrichmentRepository(self.db)
        self.embeddings = EmbeddingRepository(self.db)
        self.llm = LlmLedger(self.db)
        self.changes = ChangeTracker(self.db)
        if not readonly:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.migrate()
        elif not Path(self.path).exists():
            raise FileNotFoundError(f"{self.path}: no such database (run `paperlens ingest` first)")

    # -- connection and schema -----------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (for the search indexes until their SQL moves in here, and for tests)."""
        return self.db.conn

    def close_thread(self) -> None:
        """Close this thread's connection only (a short-lived reader thread calls it before it ends)."""
        self.db.close_thread()

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> Transaction:
        return self.db.transaction()

    def read_snapshot(self) -> AbstractContextManager[None]:
        """Reads inside see one committed state of the database (one WAL snapshot)."""
        return self.db.read_snapshot()

    def migrate(self) -> int:
        return migrations.migrate(self.db)

    def schema_version(self) -> int:
        return migrations.schema_version(self.db)

    def integrity_check(self) -> str:
        """'ok', or what SQLite found wrong (the tables, then the full-text index)."""
        return self.db.integrity_check()

    # -- ingest and merge ------------------------------------------------------------------------
    def ingest(self, papers: Iterable[Paper], batch_size: int = 500,
               on_batch: Callable[[IngestResult], None] | None = None) -> IngestResult:
        """Store papers, merging each with what is already known of it (one transaction per batch)."""
        return self.writer.ingest(papers, batch_size, on_batch)

    def ingest_prepared(self, items: Iterable[PreparedPaper], batch_size: int = 500,
                        on_batch: Callable[[IngestResult], None] | None = None) -> IngestResult:
        """`ingest` for papers already turned into rows by `prepare` (possibly in another process)."""
        return self.writer.ingest_prepared(items, batch_size, on_batch)

    def flag_suspect_merges(self) -> int:
        """Migration 5's step (see suspects.flag_suspect_merges); returns the number of papers flagged."""
        return suspects.flag_suspect_merges(self.db)

    def merge_notes(self, pid: str) -> dict[str, Any]:
        """How a paper came to be: its merges, what it was kept apart from, the suspect merge it is."""
        return suspects.merge_notes(self.db, pid, self.papers.provenance(pid))

    def suspect_count(self) -> int:
        return suspects.open_count(self.db)

    # -- reading papers --------------------------------------------------------------------------
    def resolve_id(self, pid: str) -> str | None:
        """The stored id of a paper named by any form of an id (ids.parse_any_id)."""
        return self.papers.resolve_id(pid)

    def get(self, pid: str) -> Paper | None:
        return self.papers.get(pid)

    def get_many(self, ids: list[str]) -> list[Paper]:
        return self.papers.get_many(ids)

    def paper_views(self, ids: list[str]) -> list[PaperView]:
        """The fields a result list shows of these papers, read without building models (rows.PaperView)."""
        return self.papers.views(ids)

    def provenance(self, pid: str) -> dict[str, Any]:
        return self.papers.provenance(pid)

    def count(self) -> int:
        return self.papers.count()

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        """Every paper, in rowid order."""
        return self.papers.iter_papers(batch)

    def rowid_ids(self, rowids: list[int]) -> dict[int, str]:
        return self.papers.rowid_ids(rowids)

    def paper_rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Light rows for result lists: title, abstract, year, topic label, authors."""
        return self.papers.paper_rows(ids)

    def fts_search(self, expression: str, limit: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """(paper id, bm25 score) for an FTS5 expression built by paperlens.search.hybrid."""
        return self.papers.fts_search(expression, limit, filters)

    def filter_ids(self, ids: list[str], filters: Filters) -> set[str]:
        """The subset of ids that pass a paperlens.search.hybrid.SearchFilters."""
        return self.papers.filter_ids(ids, filters)

    def stats(self) -> dict[str, Any]:
        return {**self.papers.stats(), "llm": self.llm_stats()}

    # -- enrichment records ----------------------------------------------------------------------
    def enrichment_done(self, step: str, version: str) -> dict[str, str]:
        """paper_id -> content_hash for papers this step version already processed successfully."""
        return self.enrichments.done(step, version)

    def enrichment_failed(self, step: str, version: str) -> set[str]:
        """Ids of the papers this step version failed on."""
        return self.enrichments.failed(step, version)

    def save_enrichments(self, rows: list[dict[str, Any]]) -> None:
        self.enrichments.save(rows)

    def enrichments_for(self, pid: str) -> dict[str, dict[str, Any]]:
        return self.enrichments.for_paper(pid)

    def enrichments_for_many(self, ids: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        return self.enrichments.for_many(ids)

    def all_enrichments(self) -> Iterator[dict[str, Any]]:
        """Every enrichment record (output decoded), for readers that resolve all papers at once."""
        return self.enrichments.all()

    def iter_paper_rows(self, rowids: list[int] | None = None, batch: int = 1000
                        ) -> Iterator[tuple[int, Paper, dict[str, dict[str, Any]]]]:
        """(rowid, paper, its enrichments by step) in rowid order: every paper, or those of `rowids`."""
        for rows, enrichment_rows in self.iter_raw_paper_rows(rowids, batch):
            yield from parse_paper_rows(rows, enrichment_rows)

    def iter_raw_paper_rows(self, rowids: list[int] | None = None, batch: int = 1000) -> Iterator[RawBatch]:
        """What iter_paper_rows parses, a batch at a time, as plain values (another process can parse them)."""
        return self.enrichments.iter_raw_paper_rows(rowids, batch)

    # -- embeddings ------------------------------------------------------------------------------
    def has_embeddings(self) -> bool:
        return self.embeddings.any()

    def embedding_count(self, model: str) -> int:
        return self.embeddings.count(model)

    def embedding_models(self) -> dict[str, int]:
        return self.embeddings.models()

    def embedding_dim(self, model: str) -> int | None:
        return self.embeddings.dim(model)

    def iter_embeddings(self, model: str, after_rowid: int = -1, batch: int = 20000
                        ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(rowids, matrix) batches in rowid order."""
        return self.embeddings.iter(model, after_rowid, batch)

    def embedding_ids(self, rowids: list[int]) -> dict[int, str]:
        return self.embeddings.ids(rowids)

    def embedding_of(self, pid: str, model: str | None = None) -> tuple[str, np.ndarray] | tuple[None, None]:
        """(model, float32 vector) stored for a paper (of `model` when given), or (None, None)."""
        return self.embeddings.of(pid, model)

    def save_embeddings(self, rows: Iterable[dict[str, Any]]) -> int:
        """rows: {paper_id, model, vector, content_hash}; a new vector of a paper replaces the old."""
        return self.embeddings.save(rows)

    def load_embeddings(self, model: str, ids: Iterable[str] | None = None) -> tuple[list[str], np.ndarray]:
        """(paper ids, float32 matrix with one row per id) for vectors made by `model`."""
        return self.embeddings.load(model, ids)

    # -- LLM response cache and usage ledger -----------------------------------------------------
    def llm_cache_get(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        return self.llm.cache_get(keys)

    def llm_record(self, cache_entries: list[dict[str, Any]], usage: list[dict[str, Any]]) -> None:
        """Cache valid answers and log the requests that produced them, in one transaction."""
        self.llm.record(cache_entries, usage)

    def llm_stats(self) -> dict[str, Any]:
        return self.llm.stats()

    # -- change tracking -------------------------------------------------------------------------
    def change_counter(self) -> int:
        """Moves whenever another connection commits (PRAGMA data_version)."""
        return self.changes.change_counter()

    def data_signature(self) -> tuple[Any, ...]:
        """Changes whenever papers or enrichments change: readers use it to refresh their caches."""
        return self.changes.data_signature()

    def update_stamps(self, raw: bool = False) -> tuple[str | None, str | None]:
        """The latest updated_at of papers and of enrichments; '' for none (None with `raw`)."""
        return self.changes.update_stamps(raw)

    def write_generation(self) -> int | None:
        """A count that moves with every write to papers or enrichments (any process); None when the
        database predates it and is open read-only."""
        return self.changes.write_generation()

    def changed_rowids(self, papers_since: str, enrichments_since: str) -> set[int]:
        """Rowids of papers written, or enriched, at or after the given times."""
        return self.changes.changed_rowids(papers_since, enrichments_since)

    def removals(self) -> int:
        """How many papers were ever removed (split suspect merges); 0 before migration 5."""
        return suspects.removals(self.db)
