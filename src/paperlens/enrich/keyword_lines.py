"""Keyword tags for the lines of a JSONL file (`paperlens keywords`): each line an object with an
`abstract` and optionally a `title`; it comes back with `keywords_pred`, or with what is wrong with it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator


def parse_line(line: str) -> tuple[str | None, dict]:
    """(None, record), or (what is wrong, {})."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at column {exc.colno})", {}
    if not isinstance(record, dict):
        return "expected a JSON object", {}
    abstract = record.get("abstract")
    if not isinstance(abstract, str) or not abstract.strip():
        return 'missing or empty "abstract"', {}
    title = record.get("title")
    if title is not None and not isinstance(title, str):
        return '"title" must be a string', {}
    return None, record


def tag_lines(lines: Iterable[str], k: int = 5, model=None) -> Iterator[tuple[int, str | None, dict]]:
    """(line number, problem, record) for each non-blank line: the record with its top `k` tags in
    `keywords_pred` (problem None), or the problem and {}. `model`: the shipped one by default."""
    if model is None:
        from paperlens.enrich.models.keywords import default_model

        model = default_model()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        problem, record = parse_line(line)
        if not problem:
            picked = model.extract(record.get("title") or "", record["abstract"], k)
            record["keywords_pred"] = [phrase for phrase, _ in picked]
        yield number, problem, record
