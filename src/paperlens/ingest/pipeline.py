"""Ingest files into a Store: detect format, read records, report rejections, store in batches."""

from __future__ import annotations

import dataclasses
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from paperlens.core.child import few_collections
from paperlens.core.models import Paper
from paperlens.ingest.parser_process import read_in_child
from paperlens.sources import Rejected, SourceError, read_records, resolve_format
from paperlens.sources.plausible import check_forced
from paperlens.store import IngestResult, PreparedPaper, Store

# Files at least this big are parsed in a second process while this one writes (both halves cost about
# the same CPU per paper); below it the process start (about half a second) is not worth it.
PARALLEL_MIN_BYTES = 16 * 2**20


@dataclass
class FileReport:
    """What one file gave: the format that read it (detected, or forced with --format) and its counts."""

    path: str
    format: str
    forced: bool
    valid: int = 0
    rejected: int = 0

    @property
    def how(self) -> str:
        return f"read as {self.format}, forced" if self.forced else f"detected as {self.format}"

    @property
    def empty_message(self) -> str | None:
        """'FILE: no papers found (detected as X)' when the file gave no valid paper."""
        return None if self.valid else f"{self.path}: no papers found ({self.how})"


@dataclass
class IngestReport:
    new: int = 0
    merged: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[Rejected] = field(default_factory=list)
    file_errors: list[tuple[str, str]] = field(default_factory=list)
    strict_failed: bool = False
    files: list[FileReport] = field(default_factory=list)  # every file whose format was settled
    skipped: int = 0  # papers read but left out by `keep`

    @property
    def valid(self) -> int:
        return self.new + self.merged + self.unchanged


def ingest_paths(store: Store, paths: Iterable[str | Path], *, fmt: str = "auto", as_of: date | None = None,
                 strict: bool = False, batch_size: int = 2000,
                 on_record: Callable[[int], None] | None = None,
                 on_rejected: Callable[[Rejected], None] | None = None,
                 parallel: bool | None = None, keep: Callable[[Paper], bool] | None = None,
                 check_format: bool = True, shown_as: dict[str, str] | None = None,
                 on_batch: Callable[[IngestResult], None] | None = None) -> IngestReport:
    """`parallel`: parse in a second process (None: when the file is big and there is a second core).
    `keep`: store only the papers it accepts (the others count as `skipped`; files are then parsed here).
    `check_format`: check that a forced `fmt` reads plausible records (off for files this program fetched).
    `shown_as`: path -> the name its records, provenance and rejections give instead (an upload's own
    file name, not the server's temporary copy). `on_batch`: called with each stored batch's result (its
    `ids`: the stored id of every paper, in file order)."""
    report = IngestReport()
    for path in paths:
        shown = (shown_as or {}).get(str(path))
        try:
            name = resolve_format(path, fmt)
            if fmt != "auto" and check_format:
                check_forced(path, name, as_of)  # a wrong --format fails here, before anything is stored
        except SourceError as exc:
            message = str(exc).replace(str(path), shown) if shown else str(exc)
            report.file_errors.append((shown or str(path), message))
            continue
        done = FileReport(shown or str(path), name, forced=fmt != "auto")
        report.files.append(done)
        valid, rejected = report.valid, report.rejected
        with few_collections():
            _ingest_file(store, path, name, report, as_of, strict, batch_size, on_record, on_rejected,
                         False if keep or shown is not None else parallel, keep, shown, on_batch)
        done.valid, done.rejected = report.valid - valid, report.rejected - rejected
    return report


def _ingest_file(store: Store, path: str | Path, fmt: str, report: IngestReport, as_of: date | None, strict: bool,
                 batch_size: int, on_record, on_rejected, parallel: bool | None,
                 keep: Callable[[Paper], bool] | None = None, shown: str | None = None,
                 on_batch: Callable[[IngestResult], None] | None = None) -> None:
    try:
        if not strict and _use_parallel(path, parallel):
            # Up to two batches wait here, so the child keeps parsing while this process writes.
            batches = prefetch(read_in_child(path, fmt, as_of, batch_size), size=2)
            items = _counted(batches, report, on_record, on_rejected)
            _count(report, store.ingest_prepared(items, batch_size=batch_size, on_batch=on_batch))
            return
        records = read_records(path, fmt=fmt, as_of=as_of)
        if shown is not None:
            records = _renamed(records, str(path), shown)
        if strict:
            # Read the whole file first: one bad record means nothing from it is stored.
            items = list(records)
            bad = [r for r in items if isinstance(r, Rejected)]
            for r in bad:
                _reject(report, r, on_rejected)
            if bad:
                report.strict_failed = True
                return
            records = iter(items)
        if keep is not None:
            records = _kept(records, keep, report)
        papers = _papers(records, report, on_record, on_rejected)
        result = store.ingest(prefetch(papers, size=2 * batch_size), batch_size=batch_size, on_batch=on_batch)
    except SourceError as exc:
        report.file_errors.append((str(path), str(exc)))
        return
    _count(report, result)


def _renamed(records: Iterable[Paper | Rejected], path: str, shown: str) -> Iterator[Paper | Rejected]:
    for record in records:
        if isinstance(record, Rejected):
            if record.path == path:
                record = dataclasses.replace(record, path=shown)
        else:
            for ref in record.sources:
                if ref.path == path:
                    ref.path = shown
        yield record


def _use_parallel(path: str | Path, parallel: bool | None) -> bool:
    if parallel is not None:
        return parallel
    try:
        size = os.path.getsize(path)
    except OSError:
        return False  # read_records reports it
    return size >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1


def _counted(batches: Iterator[list[PreparedPaper | Rejected]], report: IngestReport, on_record,
             on_rejected) -> Iterator[PreparedPaper]:
    for batch in _stopping_at_source_errors(batches, report, on_rejected):
        valid = 0
        for item in batch:
            if isinstance(item, Rejected):
                _reject(report, item, on_rejected)
            else:
                valid += 1
        if on_record and valid:
            on_record(valid)  # once a batch: a progress bar update per paper would cost more than parsing it
        yield from (item for item in batch if not isinstance(item, Rejected))


def prefetch(items: Iterator[Paper], size: int = 1000) -> Iterator[Paper]:
    """Yield what `items` yields, read ahead in a thread: SQLite lets go of the GIL while it writes and
    indexes, so the next papers are parsed meanwhile. At most `size` papers wait in memory; an error
    in the reader is raised here, where the caller reads."""
    buffer: queue.Queue = queue.Queue(maxsize=max(1, size))
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_Failure(exc))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # a generator's cleanup runs in the thread that ran it
                close()
        put(done)

    reader = threading.Thread(target=read, name="paperlens-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = buffer.get()
            if item is done:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        reader.join()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def _stopping_at_source_errors(items: Iterator, report: IngestReport, on_rejected) -> Iterator:
    """What `items` yields; a SourceError raised part-way through the file (e.g. past an input limit) ends it
    as a rejection on its line instead, so the papers read before it are still stored (an exception would
    leave the batch being filled uncommitted)."""
    try:
        yield from items
    except SourceError as exc:
        _reject(report, Rejected(exc.path, max(1, exc.line), exc.message), on_rejected)


def _papers(records: Iterator[Paper | Rejected], report: IngestReport, on_record, on_rejected) -> Iterator[Paper]:
    for record in _stopping_at_source_errors(records, report, on_rejected):
        if isinstance(record, Rejected):
            _reject(report, record, on_rejected)
            continue
        if on_record:
            on_record(1)
        yield record


def _kept(records: Iterator[Paper | Rejected], keep: Callable[[Paper], bool],
          report: IngestReport) -> Iterator[Paper | Rejected]:
    for record in records:
        if isinstance(record, Rejected) or keep(record):
            yield record
        else:
            report.skipped += 1


def _reject(report: IngestReport, rejected: Rejected, on_rejected) -> None:
    report.rejected += 1
    if len(report.rejections) < 10000:
        report.rejections.append(rejected)
    if on_rejected:
        on_rejected(rejected)


def _count(report: IngestReport, result: IngestResult) -> None:
    report.new += result.new
    report.merged += result.merged
    report.unchanged += result.unchanged
