"""CSV reading shared by the CSV adapters: one row at a time, each with the line it starts on."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from paperlens.sources.base import BAD_BYTES, ReadContext, Rejected, has_bad_bytes, numbered_lines, open_text


def csv_rows(ctx: ReadContext, required: set[str],
             delimiter: str = ",") -> Iterator[tuple[int, dict[str, str]] | Rejected]:
    """(start line, row as a dict) for every row, or Rejected for a row that cannot be read
    (wrong column count, bad bytes, broken quoting). A header without `required` rejects the file.

    With delimiter '\t' (TSV), a row whose quotes are not CSV quoting (a field that merely starts with
    a quote, as TSV writers leave it) is read as its line split at the tabs."""
    with open_text(ctx.path) as handle:
        if delimiter == "\t":
            yield from _tsv_rows(ctx, handle, required)
            return
        lines = _CsvLines(handle, ctx.path)
        reader = csv.reader(lines)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Rejected(ctx.path, 1, f"unreadable CSV header ({exc})")
            return
        except _LineRejected as exc:
            yield exc.rejected
            return
        columns = [c.strip().lstrip("\ufeff") for c in header]
        missing = required - set(columns)
        if missing:
            yield Rejected(ctx.path, 1, "CSV header lacks column(s): " + ", ".join(sorted(missing)))
            return
        while True:
            start = lines.number + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Rejected(ctx.path, start, f"malformed CSV ({exc})")
                continue
            except _LineRejected as exc:  # a line past the length limit: the row it is in is skipped
                yield exc.rejected
                continue
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                yield Rejected(ctx.path, start, f"row has {len(row)} columns, the header has {len(columns)}")
                continue
            if any(has_bad_bytes(cell) for cell in row):
                yield Rejected(ctx.path, start, BAD_BYTES)
                continue
            yield start, dict(zip(columns, row, strict=True))


def _tsv_rows(ctx: ReadContext, handle, required: set[str]) -> Iterator[tuple[int, dict[str, str]] | Rejected]:
    consumed: list[str] = []

    def lines():
        for line in handle:
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), delimiter="\t", strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error:
        header = consumed[-1].rstrip("\r\n").split("\t")
    columns = [c.strip().lstrip("\ufeff") for c in header]
    missing = required - set(columns)
    if missing:
        yield Rejected(ctx.path, 1, "TSV header lacks column(s): " + ", ".join(sorted(missing)))
        return
    while True:
        start = reader.line_num + 1
        consumed.clear()
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if len(consumed) == 1 and consumed[0].count("\t") == len(columns) - 1:
                row = consumed[0].rstrip("\r\n").split("\t")  # plain TSV: quotes are text
            else:
                yield Rejected(ctx.path, start, f"malformed TSV ({exc})")
                continue
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            yield Rejected(ctx.path, start, f"row has {len(row)} columns, the header has {len(columns)}")
            continue
        if any(has_bad_bytes(cell) for cell in row):
            yield Rejected(ctx.path, start, BAD_BYTES)
            continue
        yield start, dict(zip(columns, row, strict=True))


def table_header(head: str) -> tuple[str, list[str]]:
    """(delimiter, column names as written) of a sniffed head's first line; ('', []) if it is no table header."""
    first = head.lstrip("\ufeff").split("\n", 1)[0].strip()
    if first.startswith(("{", "[", "<", "@")):
        return "", []
    delimiter = "\t" if "\t" in first else "," if "," in first else ""
    if not delimiter:
        return "", []
    return delimiter, [c.strip().strip('"').strip() for c in first.split(delimiter)]


class _LineRejected(Exception):
    def __init__(self, rejected: Rejected):
        self.rejected = rejected


class _CsvLines:
    """The lines csv.reader reads, bounded like numbered_lines: a line past the limit raises _LineRejected
    (csv.reader starts afresh at its next call, so the rows after it are read)."""

    def __init__(self, handle, path: str):
        self._lines = numbered_lines(handle, path)
        self.number = 0  # of the last line read, a rejected one included (csv.reader's line_num skips those)

    def __iter__(self):
        return self

    def __next__(self) -> str:
        self.number, line = next(self._lines)
        if type(line) is not str:
            raise _LineRejected(line)
        return line


def csv_header(head: str) -> set[str]:
    """Column names of the first line of a sniffed head (lower-case), or empty if it is not a CSV header."""
    first = head.lstrip("\ufeff").split("\n", 1)[0].strip()
    if first.startswith(("{", "[", "<", "@")) or "," not in first:
        return set()
    return {c.strip().strip('"').lower() for c in first.split(",")}
