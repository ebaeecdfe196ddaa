"""Exports: JSONL (lossless, re-ingestable), BibTeX and Markdown."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TextIO

from .models import SUMMARY_FIELDS, SUMMARY_LABELS, Paper


def write_jsonl(papers: Iterable[Paper], out: TextIO) -> int:
    n = 0
    for paper in papers:
        out.write(json.dumps(paper.export_dict(), ensure_ascii=False) + "\n")
        n += 1
    return n


def bibtex_key(paper: Paper) -> str:
    last = re.sub(r"[^A-Za-z]", "", (paper.authors[0].split()[-1] if paper.authors else "anon")) or "anon"
    word = next((w for w in re.findall(r"[A-Za-z]{4,}", paper.title)), "paper")
    return f"{last.lower()}{paper.year or ''}{word.lower()}"


_BIB_ESCAPE = str.maketrans({"{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "#": r"\#", "_": r"\_", "$": r"\$"})


def _bib(value: str) -> str:
    return value.translate(_BIB_ESCAPE)


def paper_bibtex(paper: Paper, key: str | None = None) -> str:
    kind = "inproceedings" if paper.venue and not paper.arxiv_id else "article"
    fields: list[tuple[str, str]] = []
    if paper.title:
        fields.append(("title", "{" + _bib(paper.title) + "}"))
    if paper.authors:
        names = " and ".join(_bib(a) for a in paper.authors) + (" and others" if paper.authors_truncated else "")
        fields.append(("author", names))
    if paper.year:
        fields.append(("year", str(paper.year)))
    if paper.venue:
        fields.append(("booktitle" if kind == "inproceedings" else "journal", _bib(paper.venue)))
    if paper.arxiv_id:
        fields += [("eprint", paper.arxiv_id), ("archivePrefix", "arXiv")]
        if paper.categories:
            fields.append(("primaryClass", paper.categories[0]))
    if paper.doi:
        fields.append(("doi", paper.doi))
    if paper.openreview_id:
        fields.append(("url", f"https://openreview.net/forum?id={paper.openreview_id}"))
    elif paper.code_url:
        fields.append(("url", paper.code_url))
    if paper.keywords:
        fields.append(("keywords", _bib(", ".join(paper.keywords))))
    if paper.abstract:
        fields.append(("abstract", _bib(paper.abstract)))
    fields.append(("x-paperlens-id", _bib(paper.id)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{key or bibtex_key(paper)},\n{body}\n}}\n"


def write_bibtex(papers: Iterable[Paper], out: TextIO) -> int:
    seen: dict[str, int] = {}
    n = 0
    for paper in papers:
        key = bibtex_key(paper)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key}{chr(ord('a') + seen[key] - 2)}" if seen[key] < 28 else f"{key}-{seen[key]}"
        out.write(paper_bibtex(paper, key) + "\n")
        n += 1
    return n


def write_markdown(papers: Iterable[Paper], out: TextIO) -> int:
    n = 0
    for paper in papers:
        title = paper.title or "(untitled) " + paper.abstract[:80] + "…"
        out.write(f"## {title}\n\n")
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


WRITERS = {"jsonl": write_jsonl, "bibtex": write_bibtex, "markdown": write_markdown}
