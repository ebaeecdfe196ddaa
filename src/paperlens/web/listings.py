"""What the catalog (catalog.py) is made of: a `Brief` per paper (what listings sort, filter and count
by), the topic, author and keyword listings, the counts the home and trends pages show, and topic slugs.
Equal small values (dates, topic keys, keyword pairs) are stored once, however many papers share them."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field

from paperlens.core.clean import slugify
from paperlens.core.models import Paper
from paperlens.web.brief import brief_fields


@dataclass
class TopicInfo:
    slug: str
    area: str | None
    label: str
    ids: list[str] = field(default_factory=list)


@dataclass
class AuthorInfo:
    slug: str
    name: str
    ids: list[str] = field(default_factory=list)


@dataclass
class KeywordInfo:
    norm: str
    label: str
    ids: list[str] = field(default_factory=list)


_intern = sys.intern
_SHARED: dict = {}  # equal small values (dates, topic keys, keyword pairs) stored once


def _shared(value):
    found = _SHARED.get(value)
    if found is None:
        if len(_SHARED) > 2_000_000:
            _SHARED.clear()
        found = _SHARED[value] = value
    return found


def _shared_strings(pair: tuple) -> tuple:
    """One shared tuple per distinct pair of strings (or None), its strings interned."""
    found = _SHARED.get(pair)
    if found is None:
        found = _shared(tuple(_intern(v) if v else None for v in pair))
    return found


class Brief:
    """What listings need of one (effective) paper; shared between versions while it is unchanged."""

    __slots__ = ("rowid", "title", "year", "date", "venue", "has_code", "rating", "topic", "keywords",
                 "authors", "has_summary")

    def __init__(self, rowid: int, paper: Paper):
        self._fill(brief_fields(rowid, paper))

    @classmethod
    def from_fields(cls, fields: tuple) -> tuple[str, Brief]:
        """(paper id, brief) from brief_fields' values."""
        brief = cls.__new__(cls)
        brief._fill(fields)
        return fields[1], brief

    @classmethod
    def restored(cls, saved: tuple) -> Brief:
        """A brief from (paper id, *its `_fields()`) as a catalog snapshot saved them (web/snapshot.py):
        the values are set as they are (equal values were saved shared, and load shared)."""
        brief = cls.__new__(cls)
        (_pid, brief.rowid, brief.title, brief.year, brief.date, brief.venue, brief.has_code, brief.rating,
         brief.topic, brief.keywords, brief.authors, brief.has_summary) = saved
        return brief

    def _fill(self, fields: tuple) -> None:
        (self.rowid, _pid, self.title, self.year, date, venue, self.has_code, self.rating, topic, keywords,
         authors, self.has_summary) = fields
        self.date = _shared(date)
        self.venue = _intern(venue) if venue else None
        self.topic = _shared_strings(topic) if topic else None
        # Each (norm, label) pair is one shared object per distinct keyword: a few thousand of them
        # serve a million papers (each paper holds only pointers).
        self.keywords = tuple(_shared_strings(pair) for pair in keywords)
        self.authors = tuple(_intern(name) for name in authors)

    @property
    def keyword_norms(self) -> list[str]:
        return [norm for norm, _label in self.keywords]

    def _fields(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Brief) and self._fields() == other._fields()

    __hash__ = None  # mutable-looking: not a dict key


class _Counts:
    """What the home and trends pages count, kept up to date as papers come and go: papers per year,
    per (year, topic label) and per (keyword, year); with a code link; with a summary."""

    __slots__ = ("years", "year_topics", "keyword_years", "with_code", "with_summary", "_owned")

    def __init__(self):
        self.years: Counter = Counter()
        self.year_topics: Counter = Counter()
        self.keyword_years: dict[str, Counter] = {}
        self.with_code = self.with_summary = 0
        self._owned: set[str] | None = None  # keywords whose Counter this copy may change (None: all)

    def copy(self) -> _Counts:
        """A copy to patch; per-keyword Counters stay shared until the copy changes one."""
        other = _Counts()
        other.years, other.year_topics = Counter(self.years), Counter(self.year_topics)
        other.keyword_years = dict(self.keyword_years)
        other.with_code, other.with_summary = self.with_code, self.with_summary
        other._owned = set()
        return other

    def _change(self, brief: Brief, step: int) -> None:
        self.years[brief.year] += step
        if not self.years[brief.year]:
            del self.years[brief.year]
        if brief.year:
            key = (brief.year, brief.topic[1] if brief.topic else None)
            self.year_topics[key] += step
            if not self.year_topics[key]:
                del self.year_topics[key]
            owned = self._owned
            for norm, _label in brief.keywords:
                per_year = self.keyword_years.get(norm)
                if per_year is None:
                    per_year = self.keyword_years[norm] = Counter()
                    if owned is not None:
                        owned.add(norm)
                elif owned is not None and norm not in owned:
                    per_year = self.keyword_years[norm] = Counter(per_year)
                    owned.add(norm)
                per_year[brief.year] += step
                if not per_year[brief.year]:
                    del per_year[brief.year]
                    if not per_year:
                        del self.keyword_years[norm]
        self.with_code += step * brief.has_code
        self.with_summary += step * brief.has_summary

    def add(self, brief: Brief) -> None:
        self._change(brief, 1)

    def remove(self, brief: Brief) -> None:
        self._change(brief, -1)


def _topic_slug(key: tuple[str | None, str], used: set[str]) -> str:
    """A topic's URL slug: its label's, else with its area, else numbered; unique among `used`."""
    slug = slugify(key[1])
    if slug in used:
        slug = slugify(f"{key[0] or ''}-{key[1]}")
    n = 2
    while slug in used:
        slug, n = f"{slugify(key[1])}-{n}", n + 1
    used.add(slug)
    return slug
