"""Child processes: fresh interpreters (`python -m MODULE`) that talk to this one over pipes.

Ingest parses big files in them (ingest/parser_process.py) and the web catalog works out briefs in them
(web/brief_worker.py). They are not multiprocessing forks or spawns: forking a threaded server is
unsafe, and spawn re-runs the caller's main script. A child gets the pipe ends it needs as its first
arguments and imports this same paperlens (see child_environment); when the parent closes its ends
or dies, the child's next read or write fails and it exits."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any


def child_environment() -> dict[str, str]:
    """The environment of a `python -m paperlens...` child: it imports this same paperlens."""
    package_root = str(Path(__file__).resolve().parents[2])
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))


class Child:
    """`python -m module FD... *args`, with a pipe to it (`send`) and/or one from it (`recv`).

    The child's argv starts with its pipe ends: the one it reads (when `to_child`), then the one it
    writes (when `from_child`); the rest of `args` follow."""

    def __init__(self, module: str, args: Sequence[str] = (), *, to_child: bool = False, from_child: bool = True):
        theirs: list[int] = []  # the child's ends, closed here once it has them (ours are the Connections)
        self.sender: Connection | None = None
        self.receiver: Connection | None = None
        try:
            if to_child:
                read_fd, write_fd = os.pipe()
                theirs.append(read_fd)
                self.sender = Connection(write_fd, readable=False)
            if from_child:
                read_fd, write_fd = os.pipe()
                theirs.append(write_fd)
                self.receiver = Connection(read_fd, writable=False)
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, *map(str, theirs), *args],
                pass_fds=tuple(theirs), stdin=subprocess.DEVNULL, env=child_environment())
        except BaseException:  # not started: our ends go too
            for connection in (self.sender, self.receiver):
                if connection is not None:
                    connection.close()
            raise
        finally:
            for fd in theirs:
                os.close(fd)

    def send(self, message: Any) -> None:
        """OSError when the child is gone."""
        if self.sender is None:
            raise ValueError("this child was started without a pipe to it")
        self.sender.send(message)

    def recv(self) -> Any:
        """EOFError when the child closed its end (it ended)."""
        if self.receiver is None:
            raise ValueError("this child was started without a pipe from it")
        return self.receiver.recv()

    def stop(self, timeout: float = 5.0) -> None:
        """Close our ends (a child still reading or writing then exits), wait for it, kill it if it
        does not end within `timeout` seconds."""
        for connection in (self.sender, self.receiver):
            if connection is not None:
                connection.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def child_started(nice: int = 0) -> None:
    """What a child does first: Ctrl-C is the parent's to handle (it stops us), the modules just
    imported are frozen out of the garbage collector (they never need scanning again), and an
    optional lower CPU priority."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.freeze()
    if nice:
        os.nice(nice)


# Parsing and storing a snapshot makes millions of short-lived objects that hold no cycles (records,
# rows, tuples); at CPython's threshold (700) the collector ran 380 times in the writer and 150 in each
# parser for 20k papers (0.11 s and 0.05 s CPU). A threshold of 50,000 runs it a few times.
BULK_GC_THRESHOLD = (50_000, 20, 50)
_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, int, int] | None = None


@contextmanager
def few_collections() -> Iterator[None]:
    """The garbage collector at BULK_GC_THRESHOLD while inside (across threads: the first in sets it,
    the last out puts back what it was)."""
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(*BULK_GC_THRESHOLD)
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)
                _gc_saved = None
