"""The store: the one owner of SQLite (schema, migrations, every query). Import from here.

`Store` (store.py) is the facade; the repositories behind it each own a part of the schema (see
store.py's docstring and docs/architecture.md)."""

from paperlens.store.connection import DEFAULT_DB, DatabaseNotWritable, db_error_message, readonly_uri
from paperlens.store.rows import IngestResult, PreparedPaper, keyword_norm, parse_paper_rows, prepare
from paperlens.store.searchindex import KeywordIndexDB
from paperlens.store.store import Store
from paperlens.store.textindex import TextIndexRows

__all__ = [
    "DEFAULT_DB",
    "DatabaseNotWritable",
    "IngestResult",
    "KeywordIndexDB",
    "PreparedPaper",
    "Store",
    "TextIndexRows",
    "db_error_message",
    "keyword_norm",
    "parse_paper_rows",
    "prepare",
    "readonly_uri",
]
