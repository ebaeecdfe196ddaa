"""Paper search behind one small interface (a later hybrid semantic search replaces the body).

`search(store, q, limit, offset, filters)` -> SearchResults(total, hits, terms). Today it ranks with
SQLite FTS5 bm25 over title, abstract, keywords and authors (`Store.search_fts`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .store import Store, fts_terms

# Filters on the stored paper row: name -> (SQL on alias p, how to turn the value into a parameter).
_FILTERS: dict[str, tuple[str, Any]] = {
    "year": ("p.year = ?", int),
    "venue": ("p.venue = ?", str),
    "has_code": ("p.has_code = ?", lambda v: int(bool(v))),
    "language": ("p.language = ?", str),
}


@dataclass
class Hit:
    id: str
    score: float


@dataclass
class SearchResults:
    query: str
    total: int
    hits: list[Hit] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)


def search(store: Store, q: str, limit: int = 20, offset: int = 0,
           filters: dict[str, Any] | None = None) -> SearchResults:
    clauses, params = [], []
    for name, value in (filters or {}).items():
        if value is None or value == "":
            continue
        if name not in _FILTERS:
            raise ValueError(f"unknown search filter {name!r} (known: {', '.join(_FILTERS)})")
        sql, convert = _FILTERS[name]
        clauses.append(sql)
        params.append(convert(value))
    total, rows = store.search_fts(q, limit=limit, offset=offset, where=" AND ".join(clauses), params=tuple(params))
    return SearchResults(query=q, total=total, hits=[Hit(pid, score) for pid, score in rows], terms=fts_terms(q))
