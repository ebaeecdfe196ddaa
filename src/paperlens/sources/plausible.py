"""Whether the records a forced `--format` yields look like papers at all.

A format forced onto a file of another layout often still yields records, just wrong ones: the
arXiv-snapshot reader on a daily-arXiv-ai-enhanced file stores author names like "['Yining Hong'" (the
Python repr of a list split at its commas) and no abstracts. Before anything is stored, the first
records are checked; an implausible sample fails the file with a message that names what is wrong and
the format auto-detection would pick.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import islice
from pathlib import Path

from paperlens.core.models import Paper
from paperlens.sources.base import SourceError

SAMPLE = 20
# A serialised list / dict / tuple, or a quoted string: "['Yining Hong'", "'Rui Sun'", "{'name': ...}"
_LITERAL = re.compile(r"""^\s*[\[{]|[\]}]\s*$|^\s*\(\s*['"]|['"]\s*\)\s*$|^\s*'.*'\s*$|^\s*".*"\s*$""")
_LITERAL_TITLE = re.compile(r"""^\s*[\[{(]\s*['"]""")


def implausible(papers: list[Paper]) -> str | None:
    """Why these records (the first of a file) cannot be what the file holds; None when they can."""
    for paper in papers:
        for name in paper.authors:
            if _LITERAL.search(name):
                return f"author names look like a serialised list, e.g. {name[:40]!r}"
        if paper.title and _LITERAL_TITLE.match(paper.title):
            return f"titles look like serialised values, e.g. {paper.title[:40]!r}"
    if papers and not any(p.abstract for p in papers) and not any(p.title for p in papers):
        return "records have neither titles nor abstracts"
    return None


def check_forced(path: str | Path, fmt: str, as_of: date | None = None) -> None:
    """Raise SourceError when `fmt`, forced, reads implausible records from `path`."""
    from paperlens.sources import detect_format, read_records

    records = read_records(path, fmt=fmt, as_of=as_of)
    try:
        papers = [r for r in islice(records, SAMPLE * 5) if isinstance(r, Paper)][:SAMPLE]
    finally:
        close = getattr(records, "close", None)
        if close is not None:
            close()
    problem = implausible(papers)
    try:
        detected = detect_format(path)
    except SourceError:
        detected = None
    if problem is None and detected and detected != fmt and papers and not any(p.abstract for p in papers):
        problem = f"none of the first {len(papers)} records has an abstract"
    if problem is None:
        return
    hint = f"; auto-detection reads it as {detected} (leave --format out)" if detected and detected != fmt else ""
    raise SourceError(str(path), 1, f"--format {fmt} gives implausible records ({problem}); nothing stored "
                                    f"from this file{hint}")


__all__ = ["SAMPLE", "check_forced", "implausible"]
