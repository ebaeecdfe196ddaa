"""Ingest files into a Store: detect format, read records, report rejections, store in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .models import Paper
from .sources import Rejected, SourceError, read_records
from .store import IngestResult, Store


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
                 strict: bool = False, batch_size: int = 500,
                 on_record: Callable[[int], None] | None = None,
                 on_rejected: Callable[[Rejected], None] | None = None) -> IngestReport:
    report = IngestReport()
    for path in paths:
        try:
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
            result = store.ingest(_papers(records, report, on_record, on_rejected), batch_size=batch_size)
        except SourceError as exc:
            report.file_errors.append((str(path), str(exc)))
            continue
        _count(report, result)
    return report


def _papers(records: Iterator[Paper | Rejected], report: IngestReport, on_record, on_rejected) -> Iterator[Paper]:
    for record in records:
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
