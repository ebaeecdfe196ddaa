"""Paper search for the web layer: a thin adapter over paperlens.search.hybrid (keyword + semantic, fused).

`search(store, q, limit, offset, filters)` -> SearchResults(total, hits, terms, suggestion)."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from paperlens.search.hybrid import HybridSearcher, SearchFilters
from paperlens.store import Store

# Web filter name -> SearchFilters field and how to turn the value into it.
_FILTERS: dict[str, Any] = {
    "year": lambda f, v: (setattr(f, "year_from", int(v)), setattr(f, "year_to", int(v))),
    "venue": lambda f, v: setattr(f, "venue", str(v)),
    "has_code": lambda f, v: setattr(f, "has_code", bool(v)),
    "language": lambda f, v: setattr(f, "language", str(v)),
    "topic": lambda f, v: setattr(f, "topic", str(v)),
    "author": lambda f, v: setattr(f, "author", str(v)),
    "category": lambda f, v: setattr(f, "category", str(v)),
}
_SEARCHERS: weakref.WeakKeyDictionary[Store, HybridSearcher] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


@dataclass
class Hit:
    id: str
    score: float
    snippet: str = ""


@dataclass
class SearchResults:
    query: str
    total: int
    hits: list[Hit] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    suggestion: str | None = None  # "did you mean", for words that occur nowhere


def searcher_for(store: Store, background: bool = False) -> HybridSearcher:
    """One searcher per store, so the vector and keyword indexes are built once per process. The first
    call decides `background` (see HybridSearcher): the web server asks for it when it starts."""
    with _LOCK:
        found = _SEARCHERS.get(store)
        if found is None:
            found = _SEARCHERS[store] = HybridSearcher(store, background=background)
        return found


def search(store: Store, q: str, limit: int = 20, offset: int = 0,
           filters: dict[str, Any] | None = None, mode: str = "hybrid") -> SearchResults:
    wanted = SearchFilters()
    for name, value in (filters or {}).items():
        if value is None or value == "":
            continue
        if name not in _FILTERS:
            raise ValueError(f"unknown search filter {name!r} (known: {', '.join(_FILTERS)})")
        _FILTERS[name](wanted, value)
    found = searcher_for(store).search_results(q, limit=limit, offset=offset, filters=wanted, mode=mode)
    return SearchResults(query=q, total=found.total, hits=[Hit(h.id, h.score, h.snippet) for h in found.hits],
                         terms=found.terms, suggestion=found.suggestion)
