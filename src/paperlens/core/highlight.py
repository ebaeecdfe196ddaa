"""The one highlighter: an HTML-safe snippet of untrusted text with the query's terms in <mark>.

The raw text is split on matches first and each part escaped after, so a mark never lands inside an
entity. Latin terms match at the start of a word ("attention" in "self-attention", not "tension" in
"attention"); Chinese has no word boundaries, so a Han term matches anywhere."""

from __future__ import annotations

import functools
import html
import re
from typing import TYPE_CHECKING

from paperlens.core.fields import SUMMARY_FIELDS

if TYPE_CHECKING:  # the pydantic models are imported where papers are built, not with this module
    from paperlens.core.models import Paper

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _pattern(terms: list[str]) -> re.Pattern[str] | None:
    return _compiled(tuple(sorted({t for t in terms if t}, key=lambda t: (-len(t), t))))


@functools.lru_cache(maxsize=256)
def _compiled(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    if not terms:
        return None
    parts = [re.escape(t) if _HAN.match(t) else r"(?<!\w)" + re.escape(t) for t in terms]
    return re.compile("(" + "|".join(parts) + ")", re.IGNORECASE)


def highlight(text: str | None, terms: list[str]) -> str:
    """`text` escaped, with every match of the terms wrapped in <mark>."""
    text = text or ""
    pattern = _pattern(terms)
    if pattern is None:
        return html.escape(text)
    return "".join(f"<mark>{html.escape(part)}</mark>" if i % 2 else html.escape(part)
                   for i, part in enumerate(pattern.split(text)))


def first_match(text: str, terms: list[str]) -> int:
    """Where the first occurrence of any term starts (a plain substring search: it places the window,
    the marks are exact), or -1."""
    lowered = text.lower()
    found = [at for at in (lowered.find(t.lower()) for t in terms if t) if at >= 0]
    return min(found) if found else -1


def snippet(text: str | None, terms: list[str], width: int = 260, at: int | None = None) -> str:
    """A window of `text` around the first match (its start when none), highlighted; `at`: where the
    first match is, when the caller knows."""
    text = text or ""
    if len(text) <= width:
        return highlight(text, terms)
    at = first_match(text, terms) if at is None else at
    start = max(0, at - width // 4) if at > 0 else 0
    if start:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 20 else start
    piece = text[start:start + width]
    return ("…" if start else "") + highlight(piece, terms) + ("…" if start + width < len(text) else "")


def paper_snippet(paper: Paper, terms: list[str]) -> str:
    """A snippet of the first of abstract, summaries (Chinese first) and TL;DR that holds a query term,
    else of the abstract (or the first summary of a paper without one)."""
    summaries = [" ".join(getattr(s, name) for name in SUMMARY_FIELDS) for _, s in
                 sorted(paper.summary.items(), key=lambda item: item[0] != "zh")]
    texts = [t for t in (paper.abstract, *summaries, paper.tldr or "") if t]
    for candidate in texts:
        at = first_match(candidate, terms)
        if at >= 0:
            return snippet(candidate, terms, at=at)
    return snippet(texts[0], terms, at=-1) if texts else ""
