"""Work out papers' briefs in child processes while this one builds the catalog's listings.

A full catalog build spends most of its time turning stored rows into briefs: parsing each paper's
JSON, applying its enrichments and deriving the brief's fields. That part runs in children; the reading
stays here, inside the catalog's one SQLite snapshot, so a build never mixes two committed states.
The children are fresh interpreters (`python -m paperlens.web.brief_worker`, started by core/child.py,
as for parsing at ingest): forking a threaded server is unsafe. Each child has at most one batch in hand, so
neither side can block the other on a full pipe; if the parent dies, the child's next read ends it.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection

from paperlens.core.child import Child, child_started
from paperlens.core.envvars import env_int

RawBatch = tuple[list[tuple[int, str, str]], list[tuple]]


def worker_count() -> int:
    """Children for a build: the cores left besides this process's, at most three (the listings built
    here are the limit beyond that); PAPERLENS_CATALOG_WORKERS overrides (0: build in this process)."""
    return env_int("PAPERLENS_CATALOG_WORKERS", max(1, min(3, (os.cpu_count() or 1) - 1)))


class BriefWorkers:
    """Child processes that turn raw paper rows (Store.iter_raw_paper_rows) into brief_fields tuples."""

    def __init__(self, count: int):
        self._children: list[_Child] = []
        try:
            for _ in range(count):
                self._children.append(_Child())
        except BaseException:
            self.close()
            raise

    def map(self, batches: Iterable[RawBatch]) -> Iterator[list[tuple]]:
        """brief_fields of every row, a batch at a time, in the order of `batches`. A child gets its next
        batch as soon as its result is in, before that result is yielded, so it works while the caller
        builds listings from the result; one batch per child means no side waits on a full pipe."""
        batches = iter(batches)
        pending: deque[_Child] = deque()
        upcoming = next(batches, None)
        for child in self._children:
            if upcoming is None:
                break
            child.send(upcoming)
            pending.append(child)
            upcoming = next(batches, None)
        while pending:
            child = pending.popleft()
            result = child.receive()
            if upcoming is not None:
                child.send(upcoming)
                pending.append(child)
                upcoming = next(batches, None)  # read while the child works
            yield result

    def close(self) -> None:
        for child in self._children:
            child.stop()

    def __enter__(self) -> BriefWorkers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Child:
    def __init__(self):
        self.child = Child("paperlens.web.brief_worker", to_child=True, from_child=True)
        self.process = self.child.process

    def send(self, batch: RawBatch) -> None:
        try:
            self.child.send(batch)
        except OSError:
            raise RuntimeError(f"the brief worker stopped (exit code {self.process.poll()})") from None

    def receive(self) -> list[tuple]:
        try:
            kind, payload = self.child.recv()
        except EOFError:
            raise RuntimeError(f"the brief worker stopped (exit code {self.process.wait()})") from None
        if kind != "briefs":
            raise RuntimeError(f"the brief worker failed:\n{payload}")
        return payload

    def stop(self) -> None:
        self.child.stop()  # the child's next read ends, and it exits


def _work(receiver: Connection, sender: Connection) -> None:
    from paperlens.enrich.views import apply_enrichments
    from paperlens.store import parse_paper_rows
    from paperlens.web.brief import brief_fields

    while True:
        try:
            rows, enrichment_rows = receiver.recv()
        except EOFError:
            return  # the parent closed its end: the build is over
        try:
            fields = [brief_fields(rowid, apply_enrichments(paper, enrichments, copy=False))
                      for rowid, paper, enrichments in parse_paper_rows(rows, enrichment_rows)]
        except Exception:  # noqa: BLE001 - reported to the parent, which raises it
            sender.send(("error", traceback.format_exc()))
            return
        sender.send(("briefs", fields))


def main(argv: list[str]) -> int:
    child_started()
    receiver = Connection(int(argv[0]), writable=False)
    sender = Connection(int(argv[1]), readable=False)
    try:
        _work(receiver, sender)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone: nobody to tell
    finally:
        receiver.close()
        sender.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
