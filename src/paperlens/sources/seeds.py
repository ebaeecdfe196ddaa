"""The four text layouts our users gave us (bundled under paperlens/sample):

- author page (000): the author's name, then year headings, then one abstract per line;
- author/lab feed (001): `CLApr 11, 2022[Code]`, `Title` glued to `Authors[ et al.][ · org]`, abstract;
- topic digest (002): `<topic><N> 篇` sections of area/topic/#tags/TL;DR/six fields/abstract;
- abstract list (003): `Abstract:` lines with raw LaTeX.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from paperlens.core.clean import find_code_url, latex_to_text, repo_name
from paperlens.core.models import SUMMARY_FIELDS, SUMMARY_LABELS, Paper, Summary, Topic
from paperlens.sources.base import (
    BAD_BYTES,
    InputLimitError,
    ReadContext,
    Rejected,
    Source,
    finish_paper,
    has_bad_bytes,
    open_text,
)
from paperlens.sources.base import numbered_lines as base_numbered_lines

MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)}
_MONTH_RE = "|".join(MONTHS)


def numbered_lines(ctx: ReadContext) -> Iterator[tuple[int, str | None]]:
    """(line number, text) with trailing newline removed; text is None for an undecodable line."""
    with open_text(ctx.path) as handle:
        for number, line in base_numbered_lines(handle, ctx.path):
            if type(line) is not str:  # past a limit: what was read stands (ingest reports this as a rejection)
                raise InputLimitError(ctx.path, number, line.message + " (this format stops there)")
            line = line.rstrip("\r\n")
            yield number, (None if has_bad_bytes(line) else line)


def _bad_encoding(ctx: ReadContext, number: int) -> Rejected:
    return Rejected(ctx.path, number, BAD_BYTES)


# ---------------------------------------------------------------- 000: author page

_YEAR_LINE = re.compile(r"^(19|20)\d{2}$")


class AuthorPageSource(Source):
    name = "seed-author-page"
    description = "author page: name, year headings, one abstract per line (seed 000)"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        lines = [ln.strip() for ln in head.splitlines() if ln.strip()]
        if len(lines) < 3 or not _YEAR_LINE.match(lines[1]):
            return False
        return len(lines[0]) < 80 and not _YEAR_LINE.match(lines[0]) and len(lines[2]) > 100

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        author: str | None = None
        year: int | None = None
        for number, line in numbered_lines(ctx):
            if line is None:
                yield _bad_encoding(ctx, number)
                continue
            text = line.strip()
            if not text:
                continue
            if author is None:
                author = text
                continue
            if _YEAR_LINE.match(text):
                year = int(text)
                continue
            if year is None:
                yield Rejected(ctx.path, number, "abstract before any year heading")
                continue
            if len(text) >= 2 and text[0] == text[-1] == '"':
                text = text[1:-1].strip()
            if len(text) < 40:
                yield Rejected(ctx.path, number, f"line too short to be an abstract: {text[:40]!r}")
                continue
            paper = Paper(authors=[author], year=year, abstract_raw=text)
            yield finish_paper(paper, ctx, self.name, number)


# ---------------------------------------------------------------- 001: author / lab feed

_FEED_HEADER = re.compile(
    rf"^(?P<cat>[A-Za-z][A-Za-z.\-]{{1,14}}?)(?P<date>(?:{_MONTH_RE}) \d{{1,2}}(?:, \d{{4}})?)(?P<code>Code)?\s*$"
)
_NAME_TOKEN = r"[A-Z][\w'\-\.]*"


def split_title_authors(text: str) -> tuple[str, list[str], bool, str | None] | None:
    """'TitleFirst Last, A B et al. · org' -> (title, authors, truncated, org).

    The title runs straight into the first author's name; the boundary is the last capital
    that follows a letter, digit or capital run in the word holding the first author's given name."""
    org = None
    if " · " in text:
        text, org = text.rsplit(" · ", 1)
        org = org.strip() or None
    truncated = False
    if text.endswith(" et al."):
        text, truncated = text[: -len(" et al.")], True
    head, sep, rest = text.partition(", ")
    # head = "Title...GluedFirstName LastName" (or the whole thing when there is one author)
    words = head.split(" ")
    for name_len in (2, 3, 1, 4):
        if len(words) <= name_len:
            continue
        glued = words[len(words) - name_len]
        cut = _glue_point(glued)
        if cut is None:
            continue
        given = glued[cut:]
        title = " ".join(words[: len(words) - name_len] + [glued[:cut]]).strip()
        first = " ".join([given] + words[len(words) - name_len + 1:])
        if not re.fullmatch(rf"{_NAME_TOKEN}(?: {_NAME_TOKEN}){{0,3}}", first):
            continue
        authors = [first] + ([a.strip() for a in rest.split(", ") if a.strip()] if sep else [])
        return title, authors, truncated, org
    return None


def _glue_point(word: str) -> int | None:
    """Index where a capitalised given name starts inside a glued word ('LabelingHan' -> 8)."""
    for i in range(len(word) - 2, 0, -1):
        if word[i].isupper() and word[i + 1].islower() and (word[i - 1].isalnum() or word[i - 1] in ")?!.:"):
            return i
    return None


class FeedSource(Source):
    name = "seed-feed"
    description = "author/lab feed: category+date line, title glued to authors, abstract (seed 001)"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        first = next((ln for ln in head.splitlines() if ln.strip()), "")
        return bool(_FEED_HEADER.match(first.strip()))

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        pending: list[tuple[int, str]] = []
        for number, line in numbered_lines(ctx):
            if line is None:
                yield _bad_encoding(ctx, number)
                pending = []
                continue
            if not line.strip():
                continue
            if _FEED_HEADER.match(line.strip()) and pending:
                yield self._record(ctx, pending)
                pending = []
            pending.append((number, line.strip()))
        if pending:
            yield self._record(ctx, pending)

    def _record(self, ctx: ReadContext, lines: list[tuple[int, str]]) -> Paper | Rejected:
        start = lines[0][0]
        header = _FEED_HEADER.match(lines[0][1])
        if not header:
            return Rejected(ctx.path, start, f"expected a category and date such as 'CLApr 11, 2022', got {lines[0][1][:60]!r}")
        if len(lines) < 3:
            return Rejected(ctx.path, start, "record ends before its title/author line and abstract")
        split = split_title_authors(lines[1][1])
        if split is None:
            return Rejected(ctx.path, lines[1][0], "cannot tell the title from the author list")
        title, authors, truncated, org = split
        try:
            iso = parse_month_day(header.group("date"), ctx.as_of)
        except ValueError as exc:  # 'Feb 30': the header has the right shape but no such day
            return Rejected(ctx.path, start, f"bad date {header.group('date')!r} ({exc})")
        abstract = " ".join(text for _, text in lines[2:])
        from paperlens.core.ids import normalize_category

        paper = Paper(
            title=title, authors=authors, authors_truncated=truncated, org=org, date=iso,
            categories=[normalize_category(header.group("cat"))], abstract_raw=abstract,
            extra={"code_badge": True} if header.group("code") else {},
        )
        return finish_paper(paper, ctx, self.name, start)


def parse_month_day(text: str, as_of: date) -> str:
    """'Apr 11, 2022' -> '2022-04-11'; 'Feb 3' takes the year of as_of."""
    match = re.match(rf"({_MONTH_RE}) (\d{{1,2}})(?:, (\d{{4}}))?$", text.strip())
    if not match:
        raise ValueError(f"not a date: {text!r}")
    year = int(match.group(3)) if match.group(3) else as_of.year
    return date(year, MONTHS[match.group(1)], int(match.group(2))).isoformat()


# ---------------------------------------------------------------- 002: topic digest

_SECTION = re.compile(r"^(?P<topic>.+?)(?P<count>\d+) 篇$")
_ABSTRACT_MARK = "查看完整摘要 (Abstract)"
_FIELD_PREFIX = {f"{icon} {zh}": key for key, (icon, zh, _en) in SUMMARY_LABELS.items()}


def _field_of(line: str) -> tuple[str, str] | None:
    for prefix, key in _FIELD_PREFIX.items():
        if line.startswith(prefix):
            return key, line[len(prefix):].strip()
        # the 🛠️ icon sometimes loses its variation selector
        bare = prefix.replace("\ufe0f", "")
        if bare != prefix and line.startswith(bare):
            return key, line[len(bare):].strip()
    return None


class DigestSource(Source):
    name = "seed-topic-digest"
    description = "topic digest: '<topic><N> 篇' sections, tags, TL;DR, six fields, abstract (seed 002)"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        return _ABSTRACT_MARK in head or (bool(_SECTION.match(head.split("\n", 1)[0].strip())) and "#" in head)

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        lines = list(numbered_lines(ctx))  # digests are small; we need lookahead for record starts
        section: str | None = None
        i = 0
        while i < len(lines):
            number, text = lines[i]
            if text is None:
                yield _bad_encoding(ctx, number)
                i += 1
                continue
            stripped = text.strip()
            if not stripped:
                i += 1
                continue
            sec = _SECTION.match(stripped)
            if sec and not self._starts_record(lines, i):
                section = sec.group("topic").strip()
                i += 1
                continue
            if not self._starts_record(lines, i):
                yield Rejected(ctx.path, number, f"expected an area line starting a paper, got {stripped[:60]!r}")
                i = self._next_start(lines, i + 1)
                continue
            end = self._next_start(lines, i + 3)  # area, topic and tags belong to this record
            yield self._record(ctx, lines[i:end], section)
            i = end

    @staticmethod
    def _starts_record(lines: list[tuple[int, str | None]], i: int) -> bool:
        window = [t for _, t in lines[i:i + 3]]
        return (
            len(window) == 3 and all(t is not None for t in window)
            and bool(window[0].strip()) and bool(window[1].strip())
            and window[2].startswith("#") and not window[0].startswith("#")
            and len(window[1]) < 60
        )

    def _next_start(self, lines: list[tuple[int, str | None]], i: int) -> int:
        while i < len(lines):
            text = lines[i][1]
            if text is not None and (self._starts_record(lines, i) or _SECTION.match(text.strip())):
                return i
            i += 1
        return i

    def _record(self, ctx: ReadContext, block: list[tuple[int, str | None]], section: str | None) -> Paper | Rejected:
        start = block[0][0]
        area, label = block[0][1].strip(), block[1][1].strip()
        tags = [t.strip() for t in re.split(r"(?:^|\s)#", block[2][1]) if t.strip()]
        tldr = None
        summary = Summary()
        abstract_lines: list[str] = []
        in_abstract = False
        last_field: str | None = None
        for number, text in block[3:]:
            if text is None:
                return _bad_encoding(ctx, number)
            stripped = text.strip()
            if in_abstract:
                if stripped:
                    abstract_lines.append(stripped)
                continue
            if not stripped:
                continue
            if stripped == _ABSTRACT_MARK:
                in_abstract = True
            elif stripped.startswith("TL;DR:"):
                tldr = stripped[len("TL;DR:"):].strip() or None
                last_field = None
            elif (field := _field_of(stripped)) is not None:
                setattr(summary, field[0], field[1])
                last_field = field[0]
            elif last_field is not None:
                # A field broken over lines: an upstream tool turned '\n' of '$\nabla$' into a newline.
                previous = getattr(summary, last_field)
                glue = "\\n" if previous.endswith("$") and re.match(r"[a-z]+[$\\{]", stripped) else " "
                setattr(summary, last_field, previous + glue + stripped)
            else:
                return Rejected(ctx.path, number, f"unexpected line inside a paper: {stripped[:60]!r}")
        if not abstract_lines:
            return Rejected(ctx.path, start, "paper has no abstract after '查看完整摘要 (Abstract)'")
        if section and section != label:
            label_note = {"section": section}
        else:
            label_note = {}
        # TL;DR and the six fields carry the abstract's LaTeX ($\\nabla$, MAS$^2$, 11-77\\%): cleaned alike.
        abstract_raw = "\n".join(abstract_lines)
        placeholder = repo_name(find_code_url(abstract_raw))
        tldr = latex_to_text(tldr, placeholder=placeholder) or None if tldr else None
        for name in SUMMARY_FIELDS:
            value = getattr(summary, name)
            if value:
                setattr(summary, name, latex_to_text(value, placeholder=placeholder))
        paper = Paper(
            keywords=tags, tldr=tldr, topic=Topic(area=area, label=label),
            summary={"zh": summary} if not summary.is_empty() else {},
            abstract_raw=abstract_raw, extra=label_note,
        )
        return finish_paper(paper, ctx, self.name, start)


# ---------------------------------------------------------------- 003: abstract list

_ABSTRACT_LINE = re.compile(r"^\s*Abstract\s*:\s*")


class AbstractListSource(Source):
    name = "seed-abstract-list"
    description = "abstract list: 'Abstract:' lines with raw LaTeX (seed 003)"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        return bool(_ABSTRACT_LINE.match(head.lstrip("\ufeff")))

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        current: list[str] = []
        start = 0
        for number, line in numbered_lines(ctx):
            if line is None:
                yield _bad_encoding(ctx, number)
                continue
            if _ABSTRACT_LINE.match(line):
                if current:
                    yield self._record(ctx, start, current)
                current, start = [_ABSTRACT_LINE.sub("", line, count=1)], number
            elif line.strip():
                if not current:
                    yield Rejected(ctx.path, number, "text before the first 'Abstract:' line")
                    continue
                current.append(line.strip())
        if current:
            yield self._record(ctx, start, current)

    def _record(self, ctx: ReadContext, start: int, lines: list[str]) -> Paper | Rejected:
        raw = " ".join(lines).strip()
        if len(raw) < 40:
            return Rejected(ctx.path, start, "abstract is empty or too short")
        return finish_paper(Paper(abstract_raw=raw), ctx, self.name, start)
