"""What a search takes and gives: filters, hits and a page of them (search/hybrid.py re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SearchFilters:
    topic: str | None = None  # topic label or its slug
    year_from: int | None = None
    year_to: int | None = None
    venue: str | None = None  # substring, case-insensitive
    category: str | None = None  # e.g. cs.CL
    author: str | None = None  # name or slug
    has_code: bool | None = None
    language: str | None = None  # en or zh

    def active(self) -> bool:
        return any(v is not None for v in vars(self).values())


@dataclass
class SearchHit:
    id: str
    title: str
    score: float
    snippet: str = ""  # HTML-escaped, matches wrapped in <mark>
    keyword_rank: int | None = None
    vector_rank: int | None = None
    translated_rank: int | None = None
    year: int | None = None
    topic: str | None = None
    authors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class SearchPage:
    total: int  # papers that matched
    hits: list[SearchHit]
    terms: list[str]  # the query's words, as highlighted
    suggestion: str | None = None  # "did you mean", when nothing matched
