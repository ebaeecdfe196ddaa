"""`paperlens` command line: a thin layer over the library. Each module here adds its commands."""

from __future__ import annotations

import importlib
import os
import re
import sqlite3
from pathlib import Path

import click

from paperlens import __version__
from paperlens.core.plugins import add_default_plugins, load_commands
from paperlens.store import DEFAULT_DB, DatabaseNotWritable, Store, db_error_message

# C0 and C1 control characters but newline (ESC, BEL, backspace, the one-byte CSI): a paper's text that holds
# them would drive the terminal it is printed to (set its title, clear the screen, hide text).
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def inert(text: str, lines: bool = False) -> str:
    """`text` with control characters as spaces (newlines too, unless `lines`), safe to print to a terminal."""
    text = _CONTROL.sub(" ", text)
    return text if lines else text.replace("\n", " ")


class MissingDatabase(click.ClickException):
    """A read command was pointed at a database file that does not exist (exit status 2, like a usage error)."""

    exit_code = 2


class Context:
    def __init__(self, db: str):
        self.db = db
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.db)
        return self._store

    @property
    def reader(self) -> Store:
        """The store for commands that only read (search, show, stats, export): opened as usual (so an older
        schema is migrated) when it can be written, else read-only (a read-only file, directory or disk)."""
        if self._store is None:
            path = Path(self.db)
            if not path.exists():  # a mistyped --db must not create an empty database that answers "no results"
                raise MissingDatabase(f"{self.db}: no such database (check --db or PAPERLENS_DB; "
                                      "`paperlens ingest FILES` creates one)")
            if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
                self._store = Store(self.db, readonly=True)
            else:
                try:
                    self._store = Store(self.db)
                except DatabaseNotWritable:
                    self._store = Store(self.db, readonly=True)
                except sqlite3.OperationalError as exc:
                    if db_error_message(exc, self.db) is None or not path.exists():
                        raise
                    self._store = Store(self.db, readonly=True)
        return self._store


class _LazyGroup(click.Group):
    """A group whose built-in commands are imported only when used: `paperlens search` imports the search
    command's module, not the web stack, the models and every other command's (issue 19: a keyword search
    as a process was 37x a bare python + sqlite3 script, mostly imports). `lazy` maps a command name to the
    module that defines it (cli/default_plugins.py); anything else (a plugin's command, --help, the
    `commands` mapping read from outside) loads every command first, as before."""

    lazy: dict[str, str] = {}

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._loaded: dict[str, click.Command] = {}
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def commands(self) -> dict[str, click.Command]:  # type: ignore[override]
        load_all()
        return self._loaded

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._loaded = dict(value)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if name is None:
            raise TypeError("Command has no name.")
        self._loaded[name] = cmd

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        command = self._loaded.get(cmd_name)
        if command is None and cmd_name in self.lazy:
            importlib.import_module(self.lazy[cmd_name])
            command = self._loaded.get(cmd_name)
        if command is None:
            load_all()
            command = self._loaded.get(cmd_name)
        return command

    def list_commands(self, ctx: click.Context | None) -> list[str]:
        load_all()
        return sorted(self._loaded)


class _Main(_LazyGroup):
    """The command group; a database that cannot be written (read-only file, directory or disk) or a full
    disk ends a command with one sentence instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except sqlite3.DatabaseError as exc:
            db = ctx.obj.db if isinstance(ctx.obj, Context) else DEFAULT_DB
            message = str(exc) if isinstance(exc, DatabaseNotWritable) else db_error_message(exc, db)
            if message is None:
                raise
            raise click.ClickException(message) from exc


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="PAPERLENS_DB", default=DEFAULT_DB, show_default=True,
              help="SQLite database file (env PAPERLENS_DB).")
@click.version_option(__version__, prog_name="paperlens")
@click.pass_context
def main(ctx: click.Context, db: str) -> None:
    """Turn a stream of research papers into a structured, searchable, bilingual digest."""
    ctx.obj = Context(db)


@main.group(name="eval", cls=_LazyGroup)
def eval_group() -> None:
    """Measure quality on data the models did not train on."""


# Commands are plugins (`register_commands`, docs/plugins.md): paperlens' own are the modules of this package
# (cli/default_plugins.py imports them), a plugin's come through the `paperlens` entry-point group. Loading
# them all waits until a command that is not a built-in, or the whole list, is asked for.
add_default_plugins("paperlens.cli.default_plugins")
_ALL_LOADED = False


def load_all() -> None:
    """Every command: paperlens' own and the plugins' (once)."""
    global _ALL_LOADED
    if not _ALL_LOADED:
        _ALL_LOADED = True
        load_commands(main, owner="paperlens.cli.default_plugins")


def _set_lazy() -> None:
    from paperlens.cli.default_plugins import COMMAND_MODULES, EVAL_MODULES

    _Main.lazy = {name: f"paperlens.cli.{module}" for name, module in COMMAND_MODULES.items()}
    eval_group.lazy = {name: f"paperlens.cli.{module}" for name, module in EVAL_MODULES.items()}


_set_lazy()
