"""Work out papers' briefs in child processes while this one builds the catalog's listings.

A full catalog build spends most of its time turning stored rows into briefs: parsing each paper's
JSON, applying its enrichments and deriving the brief's fields. That part runs in children; the reading
stays here, inside the catalog's one SQLite snapshot, so a build never mixes two committed states.
The children are fresh interpreters (`python -m paperlens.web.brief_worker`), as for parsing at ingest
(`parser_process`): forking a threaded server is unsafe. Each child has at most one batch in hand, so
neither side can block the other on a full pipe; if the parent dies, the child's next read ends it.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection

from paperlens.ingest.parser_process import child_environment

RawBatch = tuple[list[tuple[int, str, str]], list[tuple]]


def worker_count() -> int:
    """Children for a build: the cores left besides this process's, at most three (the listings built
    here are the limit beyond that); PAPERLENS_CATALOG_WORKERS overrides (0: build in this process)."""
    configured = os.environ.get("PAPERLENS_CATALOG_WORKERS")
    if configured is not None and configured.strip().isdigit():
        return int(configured)
    return max(1, min(3, (os.cpu_count() or 1) - 1))


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
        to_child_read, to_child_write = os.pipe()
        from_child_read, from_child_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "paperlens.web.brief_worker", str(to_child_read), str(from_child_write)],
                pass_fds=(to_child_read, from_child_write), stdin=subprocess.DEVNULL,
                env=child_environment())
        except BaseException:
            os.close(to_child_write)
            os.close(from_child_read)
            raise
        finally:
            os.close(to_child_read)
            os.close(from_child_write)
        self.sender = Connection(to_child_write, readable=False)
        self.receiver = Connection(from_child_read, writable=False)

    def send(self, batch: RawBatch) -> None:
        try:
            self.sender.send(batch)
        except OSError:
            raise RuntimeError(f"the brief worker stopped (exit code {self.process.poll()})") from None

    def receive(self) -> list[tuple]:
        try:
            kind, payload = self.receiver.recv()
        except EOFError:
            raise RuntimeError(f"the brief worker stopped (exit code {self.process.wait()})") from None
        if kind != "briefs":
            raise RuntimeError(f"the brief worker failed:\n{payload}")
        return payload

    def stop(self) -> None:
        self.sender.close()  # the child's next read ends, and it exits
        self.receiver.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


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
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    receiver = Connection(int(argv[0]), writable=False)
    sender = Connection(int(argv[1]), readable=False)
    gc.freeze()  # the modules just imported never need scanning again
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
