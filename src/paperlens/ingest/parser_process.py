"""Parse a file in child processes while this one writes the database.

On a bulk snapshot parsing and preparing a paper costs a little more CPU than storing it, so the parsing
runs in other processes: two for formats with one record per line (each takes every other block of
lines), one for the rest. The children are fresh interpreters (`python -m paperlens.ingest.parser_process`,
started by core/child.py). Each child sends prepared rows a block at a time over a pipe that holds about one block, so
memory stays flat; if the parent dies, a child's next write fails and it exits.
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
from collections.abc import Iterator
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path

from paperlens.core.child import BULK_GC_THRESHOLD, Child, child_started
from paperlens.sources import SOURCES, Rejected, SourceError, read_records, resolve_format
from paperlens.store import PreparedPaper, prepare

Batch = list[PreparedPaper | Rejected]


def parser_processes(path: str | Path, fmt: str = "auto") -> int:
    """How many children read `path`: two when its records can be split by line and there is a core
    for each besides the writer's share, else one."""
    shardable = SOURCES[resolve_format(path, fmt)].shardable
    return 2 if shardable and (os.cpu_count() or 1) >= 2 else 1


def read_in_child(path: str | Path, fmt: str = "auto", as_of: date | None = None, batch_size: int = 500,
                  processes: int | None = None) -> Iterator[Batch]:
    """What read_records(path) yields, parsed and prepared (store.prepare) in child processes, in file
    order, in batches of at most `batch_size` records."""
    path = Path(path)
    fmt = resolve_format(path, fmt)  # a SourceError here is the same one read_records would raise
    count = processes or parser_processes(path, fmt)
    children = [_Child(path, fmt, as_of, batch_size, index, count) for index in range(count)]
    try:
        yield from _in_block_order(children)
    finally:
        for child in children:
            child.stop()


def _in_block_order(children: list[_Child]) -> Iterator[Batch]:
    """Block b comes from child b % n; a block with no records is never sent, which shows as the
    child's next block having a higher number."""
    count = len(children)
    expected = 0
    while not all(child.finished for child in children):
        child = children[expected % count]
        if child.finished:
            expected += 1
            continue
        block, batch = child.peek()
        if block is None:  # the child reached the end of the file
            child.finished = True
        elif block == expected:
            child.take()
            yield batch
        elif block < expected:
            raise RuntimeError(f"{child.path}: parser process sent block {block} after block {expected}")
        expected += 1


class _Child:
    def __init__(self, path: Path, fmt: str, as_of: date | None, batch_size: int, index: int, count: int):
        self.path = path
        self.finished = False
        self._next: tuple[int | None, Batch] | None = None
        self.child = Child("paperlens.ingest.parser_process",
                           [os.fspath(path), fmt, as_of.isoformat() if as_of else "", str(batch_size), str(index),
                            str(count)], from_child=True)
        self.process = self.child.process

    def peek(self) -> tuple[int | None, Batch]:
        if self._next is None:
            self._next = self._receive()
        return self._next

    def take(self) -> None:
        self._next = None

    def _receive(self) -> tuple[int | None, Batch]:
        try:
            kind, block, payload = self.child.recv()
        except EOFError:
            code = self.process.wait()
            raise RuntimeError(f"{self.path}: the parser process stopped (exit code {code})") from None
        if kind == "items":  # plain tuples: they pickle several times faster than named ones
            return block, [PreparedPaper._make(item) if type(item) is tuple else item for item in payload]
        if kind == "done":
            return None, []
        if kind == "source_error":
            raise SourceError(*payload)
        raise RuntimeError(f"{self.path}: the parser process failed:\n{payload}")

    def stop(self) -> None:
        self.child.stop()  # a child still sending gets a broken pipe and exits


def _work(sender: Connection, path: str, fmt: str, as_of: date | None, batch_size: int, index: int,
          count: int) -> None:
    """Send ("items", block, records) per block of lines (sharded) or per batch_size records."""
    try:
        shard = (index, count, batch_size) if count > 1 else None
        block, batch = 0, []
        records = read_records(path, fmt=fmt, as_of=as_of, shard=shard)
        try:
            for number, record in enumerate(records):
                # sharded: the block of the record's line; else just consecutive batches
                here = (record_line(record) - 1) // batch_size if shard else number // batch_size
                if batch and here != block:
                    sender.send(("items", block, batch))
                    batch = []
                block = here
                batch.append(record if isinstance(record, Rejected) else tuple(prepare(record, keep_paper=False)))
        except SourceError as exc:  # part-way (e.g. past an input limit): what was read stands, as in-process
            batch.append(Rejected(exc.path, max(1, exc.line), exc.message))
        if batch:
            sender.send(("items", block, batch))
        sender.send(("done", None, None))
    except SourceError as exc:
        _send_quietly(sender, ("source_error", None, (exc.path, exc.line, exc.message)))
    except OSError as exc:
        if isinstance(exc, BrokenPipeError | ConnectionResetError):
            return  # the parent is gone: nobody to tell
        _send_quietly(sender, ("error", None, traceback.format_exc()))
    except Exception:  # noqa: BLE001 - reported to the parent, which raises it
        _send_quietly(sender, ("error", None, traceback.format_exc()))


def record_line(record) -> int:
    if isinstance(record, Rejected):
        return record.line
    return record.sources[0].line


def _send_quietly(sender: Connection, message) -> None:
    try:
        sender.send(message)
    except OSError:
        pass


def main(argv: list[str]) -> int:
    child_started(nice=5)  # the single writer is the pipeline's limit: it gets a core first when all are busy
    gc.set_threshold(*BULK_GC_THRESHOLD)  # it only parses: few collections (see core/child.py)
    fd, path, fmt, as_of, batch_size, index, count = argv
    sender = Connection(int(fd), readable=False)
    try:
        _work(sender, path, fmt, date.fromisoformat(as_of) if as_of else None, int(batch_size), int(index),
              int(count))
    finally:
        sender.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
