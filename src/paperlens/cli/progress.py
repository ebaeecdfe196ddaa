"""Progress for long commands: rich bars on a terminal; plain lines (at most one per task every few seconds,
and a last one when it ends) when stderr is piped or logged, so `make run | tee log` is never silent."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class PlainProgress:
    """The part of rich's Progress the commands use, writing lines like 'enrich digest: 300/685 (4 s)'."""

    def __init__(self, stream=None, every: float = 2.0, prefix: str = ""):
        self.stream = stream or sys.stderr
        self.every = every
        self.prefix = prefix
        self.tasks: dict[int, dict] = {}

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None:  # the command fails with its own sentence: no progress line after it
            return
        for task, state in self.tasks.items():
            if state["done"]:
                self._line(task, final=True)

    def add_task(self, description: str, total: float | None = None, **_) -> int:
        task = len(self.tasks)
        now = time.monotonic()
        self.tasks[task] = {"description": description, "total": total, "done": 0, "start": now,
                            "shown": now, "last": None}
        return task

    def update(self, task: int, total: float | None = None, advance: float = 0, **_) -> None:
        state = self.tasks[task]
        if total is not None:
            state["total"] = total
        state["done"] += advance
        if state["total"] and state["done"] >= state["total"]:
            self._line(task, final=True)
        elif time.monotonic() - state["shown"] >= self.every:
            self._line(task)

    def _line(self, task: int, final: bool = False) -> None:
        state = self.tasks[task]
        done, total = int(state["done"]), state["total"]
        key = (done, total)
        if final and state["last"] == key:
            return
        state["shown"], state["last"] = time.monotonic(), key
        count = f"{done}/{int(total)}" if total else f"{done}"
        seconds = time.monotonic() - state["start"]
        print(f"{self.prefix}{state['description']}: {count} ({seconds:.0f} s){' done' if final else ''}",
              file=self.stream, flush=True)


def progress(console: Console, quiet: bool = False, prefix: str = ""):
    """A rich Progress on a terminal, else PlainProgress lines (nothing at all with --quiet)."""
    interactive = console.is_terminal
    bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, disable=quiet or not interactive, transient=True)
    if quiet or interactive:
        return bars
    return PlainProgress(console.file, prefix=prefix)
