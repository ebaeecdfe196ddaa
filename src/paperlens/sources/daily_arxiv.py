"""daily-arXiv-ai-enhanced JSONL (`daily-arxiv-ai-enhanced`): one arXiv paper per line as that tool crawls
it (id, title, authors, summary = the abstract, categories, comment, pdf, abs), plus, in its enhanced
files, an `AI` object an LLM wrote from the abstract: tldr (or task), motivation, method, result,
conclusion, in the language the tool was set to (English, or Chinese in the `_zh` / `_Chinese` files).

The AI fields become the paper's summary in that language (tldr -> tldr, task -> problem, motivation ->
motivation, method -> method, result -> experiments, conclusion -> contribution); the source name is the
tool's, so `paperlens show` names it as the provenance of every summary field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from paperlens.core.clean import detect_language
from paperlens.core.ids import normalize_arxiv_id
from paperlens.core.models import Paper, Summary
from paperlens.sources.base import (
    ReadContext,
    Rejected,
    Source,
    finish_paper,
    json_objects,
)

TOOL = "daily-arXiv-ai-enhanced"
# AI key -> Summary field ('tldr' goes to Paper.tldr)
AI_FIELDS = {"task": "problem", "motivation": "motivation", "method": "method", "result": "experiments",
             "conclusion": "contribution"}
_VERSION = re.compile(r"v(\d+)$")
_NEW_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")


class DailyArxivSource(Source):
    name = "daily-arxiv-ai-enhanced"
    description = f"{TOOL} JSONL (arXiv papers with its AI summary: tldr, motivation, method, result, conclusion)"
    shardable = True

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        first = head.lstrip("\ufeff \t\r\n").split("\n", 1)[0]
        if not first.startswith("{"):
            return False
        try:
            data = json.loads(first)
        except (ValueError, RecursionError):  # a first line longer than the sniffed head, or absurdly deep
            return ('"AI": {' in first and '"summary"' in first) or ('"abs": "http' in first and '"pdf": "' in first)
        if not isinstance(data, dict) or "id" not in data or "summary" not in data:
            return False
        return isinstance(data.get("AI"), dict) or ({"pdf", "abs"} <= data.keys() and isinstance(data.get("authors"),
                                                                                                   list))

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        for item in json_objects(ctx, surrogates=False):
            if isinstance(item, Rejected):
                yield item
                continue
            number, data, _ = item
            try:
                paper = paper_from_dae(data)
            except ValueError as exc:
                yield Rejected(ctx.path, number, str(exc))
                continue
            yield finish_paper(paper, ctx, self.name, number, source_id=paper.arxiv_id)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def paper_from_dae(data: dict[str, Any]) -> Paper:
    raw = data.get("id")
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raise ValueError(f"id is a number ({raw!r}), not an arXiv id string: a spreadsheet may have eaten its zeros")
    raw_id = _text(raw) or _text(data.get("abs"))
    arxiv_id = normalize_arxiv_id(raw_id)
    if not arxiv_id:
        raise ValueError(f"not an arXiv id: {raw_id[:40]!r}" if raw_id else "record has no id")
    title, abstract = _text(data.get("title")), _text(data.get("summary"))
    if not title and not abstract:
        raise ValueError("record has neither title nor summary")
    authors = data.get("authors")
    if isinstance(authors, str):
        authors = [a.strip() for a in authors.split(",")]
    elif not isinstance(authors, list):
        authors = []
    categories = data.get("categories")
    if isinstance(categories, str):
        categories = categories.split()
    elif not isinstance(categories, list):
        categories = []
    extra: dict[str, Any] = {}
    version = _VERSION.search(raw_id)
    if version:
        extra["arxiv_version"] = int(version.group(1))
    for key, name in (("comment", "comments"), ("pdf", "pdf_url"), ("title_zh", "title_zh")):
        value = _text(data.get(key))
        if value:
            extra[name] = " ".join(value.split())
    tldr, summary = None, {}
    ai = data.get("AI")
    if isinstance(ai, dict):
        texts = {key: " ".join(value.split()) for key, value in ai.items() if isinstance(value, str) and value.strip()}
        fields = {AI_FIELDS[k]: v for k, v in texts.items() if k in AI_FIELDS}
        tldr = texts.get("tldr")
        if fields or tldr:
            language = detect_language(" ".join([tldr or "", *fields.values()]))
            if fields:
                summary = {language: Summary(**fields)}
            extra["summary_by"] = TOOL
    found = _NEW_ID.match(arxiv_id)
    iso = f"20{found.group(1)}-{found.group(2)}" if found and 1 <= int(found.group(2)) <= 12 else None
    return Paper(
        title=title, authors=[a.strip() for a in authors if isinstance(a, str) and a.strip()], abstract_raw=abstract,
        categories=[c for c in categories or [] if isinstance(c, str) and c.strip()], arxiv_id=arxiv_id,
        date=iso, year=int(iso[:4]) if iso else None, tldr=tldr, summary=summary, extra=extra,
    )


__all__ = ["AI_FIELDS", "TOOL", "DailyArxivSource", "paper_from_dae"]
