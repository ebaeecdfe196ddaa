"""The one highlighter: an HTML-safe snippet of untrusted text with the query's terms in <mark>.

The raw text is split on matches first and each part escaped after, so a mark never lands inside an
entity. Latin terms match at the start of a word ("attention" in "self-attention", not "tension" in
"attention"); Chinese has no word boundaries, so a Han term matches anywhere."""

from __future__ import annotations

import html
import re

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _pattern(terms: list[str]) -> re.Pattern[str] | None:
    terms = sorted({t for t in terms if t}, key=len, reverse=True)
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
    """Where the first match of any term starts, or -1."""
    pattern = _pattern(terms)
    found = pattern.search(text) if pattern is not None and text else None
    return found.start() if found else -1


def snippet(text: str | None, terms: list[str], width: int = 260) -> str:
    """A window of `text` around the first match (its start when none), highlighted."""
    text = text or ""
    if len(text) <= width:
        return highlight(text, terms)
    at = first_match(text, terms)
    start = max(0, at - width // 4) if at > 0 else 0
    if start:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 20 else start
    piece = text[start:start + width]
    return ("…" if start else "") + highlight(piece, terms) + ("…" if start + width < len(text) else "")
