"""Markdown export: a readable digest, one section per paper."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TextIO
from urllib.parse import urlsplit

from paperlens.core.models import SUMMARY_FIELDS, SUMMARY_LABELS, Paper
from paperlens.enrich.views import display_title, title_origin

_HTML = str.maketrans({"<": "&lt;", ">": "&gt;"})


def _md(text: object) -> str:
    """Text as Markdown shows it: on one line, and no HTML (a title's `<script>` or `<!--` would run, or hide
    every later paper, in a renderer that passes HTML through)."""
    return " ".join(str(text).split()).translate(_HTML)


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def _link(url: str) -> str:
    """An autolink only for an http(s) URL (`<javascript:...>` is a link too); anything else as text."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() in ("http", "https") and parts.netloc and not re.search(r"[\s<>]", url.strip()):
        return f"<{url.strip()}>"
    return _md(url)


def write_markdown(papers: Iterable[Paper], out: TextIO) -> int:
    n = 0
    for paper in papers:
        title = _md(display_title(paper))
        origin = _md(title_origin(paper) or "") or ("" if paper.title else "no title given; the abstract's first words")
        out.write(f"## {title}\n\n" + (f"*(title: {origin})*\n\n" if origin else ""))
        meta = []
        if paper.authors:
            meta.append(_md(", ".join(paper.authors)) + (" et al." if paper.authors_truncated else ""))
        if paper.org:
            meta.append(_md(paper.org))
        if paper.date or paper.year:
            meta.append(str(paper.date or paper.year))
        if paper.venue:
            meta.append(_md(paper.venue))
        if paper.categories:
            meta.append(_md(" ".join(paper.categories)))
        if meta:
            out.write("*" + " · ".join(meta) + "*\n\n")
        if paper.topic and paper.topic.label:
            out.write(f"**Topic:** {_md(paper.topic.area or '')} / {_md(paper.topic.label)}\n\n")
        if paper.keywords:
            out.write(" ".join(_code(f"#{' '.join(k.split())}") for k in paper.keywords) + "\n\n")
        if paper.tldr:
            out.write(f"**TL;DR:** {_md(paper.tldr)}\n\n")
        if paper.code_url:
            out.write(f"**Code:** {_link(paper.code_url)}\n\n")
        for lang, summary in paper.summary.items():
            for field in SUMMARY_FIELDS:
                value = getattr(summary, field)
                if value:
                    icon, zh, en = SUMMARY_LABELS[field]
                    out.write(f"- {icon} **{zh if lang == 'zh' else en}** {_md(value)}\n")
            out.write("\n")
        out.write(f"> {_md(paper.abstract)}\n\n")
        out.write(f"<sub>id: {_md(paper.id)}</sub>\n\n")
        n += 1
    return n
