"""The JSONL files the model commands read (`paperlens keywords`, `classify`, `taxonomy train`, `eval
topics`): one object a line with an `abstract` and optionally a `title`. One reader, so that each command
says the same of a bad line, with its number: a file is read as ingest reads JSON lines (sources.base:
compressed or UTF-16 files, a length limit per line, bytes that are not UTF-8, nesting past the depth
limit, lone surrogate escapes, values that are not objects), and then its fields are checked."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from paperlens.sources.base import (
    BAD_BYTES,
    LONE_SURROGATE,
    ReadContext,
    Rejected,
    has_bad_bytes,
    json_depth_error,
    json_error_message,
    json_objects,
    lone_surrogate_in,
)


def check_record(record: object) -> str | None:
    """What is wrong with a decoded line for the model commands, or None."""
    if not isinstance(record, dict):
        return "expected a JSON object"
    abstract = record.get("abstract")
    if not isinstance(abstract, str) or not abstract.strip():
        return 'missing or empty "abstract"'
    title = record.get("title")
    if title is not None and not isinstance(title, str):
        return '"title" must be a string'
    return None


def parse_line(line: str) -> tuple[str | None, dict]:
    """(None, record), or (what is wrong, {}): one line of text (standard input's, read with
    errors="surrogateescape")."""
    if has_bad_bytes(line):
        return BAD_BYTES, {}
    too_deep = json_depth_error(line)  # as json_lines words each problem
    if too_deep:
        return too_deep, {}
    try:
        record = json.loads(line)
    except ValueError as exc:
        return f"invalid JSON ({json_error_message(exc)})", {}
    problem = check_record(record)
    if problem is None and lone_surrogate_in(line, record):
        problem = LONE_SURROGATE
    return (problem, {}) if problem else (None, record)


def abstract_lines(path: str | Path) -> Iterator[tuple[int, str | None, dict]]:
    """(line number, problem, record) for each non-blank line of the file at `path`: problem None and the
    record, or what is wrong and {}."""
    for item in json_objects(ReadContext(path=str(path))):
        if isinstance(item, Rejected):
            yield item.line, item.message, {}
            continue
        number, record, _ = item
        problem = check_record(record)
        yield number, problem, {} if problem else record


def numbered_text_lines(lines: Iterable[str]) -> Iterator[tuple[int, str | None, dict]]:
    """abstract_lines for lines already read (standard input)."""
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield number, *parse_line(line)
