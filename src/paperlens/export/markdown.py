"""Markdown export: a readable digest, one section per paper."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from paperlens.core.models import SUMMARY_FIELDS, SUMMARY_LABELS, Paper
from paperlens.enrich.views import display_title, title_origin


def write_markdown(papers: Iterable[Paper], out: TextIO) -> int:
    n = 0
    for paper in papers:
        title = display_title(paper)
        origin = title_origin(paper) or ("" if paper.title else "no title given; the abstract's first words")
        out.write(f"## {title}\n\n" + (f"*(title: {origin})*\n\n" if origin else ""))
        meta = []
        if paper.authors:
            meta.append(", ".join(paper.authors) + (" et al." if paper.authors_truncated else ""))
        if paper.org:
            meta.append(paper.org)
        if paper.date or paper.year:
            meta.append(str(paper.date or paper.year))
        if paper.venue:
            meta.append(paper.venue)
        if paper.categories:
            meta.append(" ".join(paper.categories))
        if meta:
            out.write("*" + " · ".join(meta) + "*\n\n")
        if paper.topic and paper.topic.label:
            out.write(f"**Topic:** {paper.topic.area or ''} / {paper.topic.label}\n\n")
        if paper.keywords:
            out.write(" ".join(f"`#{k}`" for k in paper.keywords) + "\n\n")
        if paper.tldr:
            out.write(f"**TL;DR:** {paper.tldr}\n\n")
        if paper.code_url:
            out.write(f"**Code:** <{paper.code_url}>\n\n")
        for lang, summary in paper.summary.items():
            for field in SUMMARY_FIELDS:
                value = getattr(summary, field)
                if value:
                    icon, zh, en = SUMMARY_LABELS[field]
                    out.write(f"- {icon} **{zh if lang == 'zh' else en}** {value}\n")
            out.write("\n")
        out.write(f"> {paper.abstract}\n\n")
        out.write(f"<sub>id: {paper.id}</sub>\n\n")
        n += 1
    return n
