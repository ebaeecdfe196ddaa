"""`paperlens` command line: a thin layer over the library. Each module here adds its commands."""

from __future__ import annotations

import importlib

import click

from .. import __version__
from ..store import DEFAULT_DB, Store


class Context:
    def __init__(self, db: str):
        self.db = db
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.db)
        return self._store


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="PAPERLENS_DB", default=DEFAULT_DB, show_default=True,
              help="SQLite database file (env PAPERLENS_DB).")
@click.version_option(__version__, prog_name="paperlens")
@click.pass_context
def main(ctx: click.Context, db: str) -> None:
    """Turn a stream of research papers into a structured, searchable, bilingual digest."""
    ctx.obj = Context(db)


# Command modules register on import; a missing optional one (e.g. not yet built) is skipped.
for _module in ("core", "enrich", "web", "taxonomy", "evaluate", "search", "llm"):
    try:
        importlib.import_module(f"{__name__}.{_module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{_module}":
            raise
