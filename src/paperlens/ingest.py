"""Ingest files into a Store: detect format, read records, report rejections, store in batches."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .models import Paper
from .parser_process import read_in_child
from .sources import Rejected, SourceError, read_records, resolve_format
from .store import IngestResult, PreparedPaper, Store

# Files at least this big are parsed in a second process while this one writes (both halves cost about
# the same CPU per paper); below it the process start (about half a second) is not worth it.
PARALLEL_MIN_BYTES = 16 * 2**20


@dataclass
class IngestReport:
    new: int = 0
    merged: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[Rejected] = field(default_factory=list)
    file_errors: list[tuple[str, str]] = field(default_factory=list)
    strict_failed: bool = False

    @property
    def valid(self) -> int:
        return self.new + self.merged + self.unchanged


def ingest_paths(store: Store, paths: Iterable[str | Path], *, fmt: str = "auto", as_of: date | None = None,
                 strict: bool = False, batch_size: int = 2000,
                 on_record: Callable[[int], None] | None = None,
                 on_rejected: Callable[[Rejected], None] | None = None,
                 parallel: bool | None = None) -> IngestReport:
    """`parallel`: parse in a second process (None: when the file is big and there is a second core)."""
    report = IngestReport()
    for path in paths:
        try:
            if not strict and _use_parallel(path, parallel):
                # Up to two batches wait here, so the child keeps parsing while this process writes.
                # the format now, so a file that cannot be read at all is a file error, not a rejection
                batches = prefetch(read_in_child(path, resolve_format(path, fmt), as_of, batch_size), size=2)
                items = _counted(batches, report, on_record, on_rejected)
                _count(report, store.ingest_prepared(items, batch_size=batch_size))
                continue
            records = read_records(path, fmt=fmt, as_of=as_of)
            if strict:
                # Read the whole file first: one bad record means nothing from it is stored.
                items = list(records)
                bad = [r for r in items if isinstance(r, Rejected)]
                for r in bad:
                    _reject(report, r, on_rejected)
                if bad:
                    report.strict_failed = True
                    continue
                records = iter(items)
            papers = _papers(records, report, on_record, on_rejected)
            result = store.ingest(prefetch(papers, size=2 * batch_size), batch_size=batch_size)
        except SourceError as exc:
            report.file_errors.append((str(path), str(exc)))
            continue
        _count(report, result)
    return report


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
