"""The store: the one owner of SQLite (schema, migrations, every query). Import from here."""

from paperlens.store.searchindex import KeywordIndexDB
from paperlens.store.store import (
    DEFAULT_DB,
    DatabaseNotWritable,
    IngestResult,
    PreparedPaper,
    Store,
    db_error_message,
    keyword_norm,
    parse_paper_rows,
    prepare,
    readonly_uri,
)
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
