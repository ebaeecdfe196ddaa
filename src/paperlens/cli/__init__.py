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


@main.group(name="eval")
def eval_group() -> None:
    """Measure quality on data the models did not train on."""


def _load_command_modules() -> None:
    # Every module in this package adds its commands to `main` on import.
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{info.name}")


_load_command_modules()
