"""Writers of hostile files for tests/test_hostile_ingest.py and bench/fuzz.py. Each streams what it
writes, so a file far larger than memory can be made (e.g. a .gz that expands to gigabytes)."""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

ATOM_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">\n'
             "<title>arXiv Query: hostile</title>\n")


def kaggle_record(number: int, **fields) -> dict:
    """One valid arXiv snapshot record (arxiv-jsonl)."""
    record = {"id": f"2401.{number:05d}", "submitter": "A. Author", "authors": "A. Author and B. Author",
              "title": f"A valid paper number {number} about sparse routing",
              "comments": None, "journal-ref": None, "doi": None, "report-no": None, "categories": "cs.LG",
              "license": None, "abstract": f"We study sparse routing, case {number}, and show it works well.",
              "versions": [{"version": "v1", "created": "Mon, 1 Jan 2024 00:00:00 GMT"}],
              "update_date": "2024-01-02", "authors_parsed": [["Author", "A.", ""], ["Author", "B.", ""]]}
    record.update(fields)
    return record


def deeply_nested(depth: int) -> str:
    """A JSON value nested `depth` levels deep: [[[...]]]."""
    return "[" * depth + "]" * depth


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def write_gzip_long_line(path: Path, line_chars: int, before: list[str], after: list[str],
                         chunk: int = 2**20) -> Path:
    """A .gz of the `before` lines, one line of `line_chars` characters, then the `after` lines. The long
    line is written a chunk at a time (gzip makes 10 GiB of it a file of about 10 MB)."""
    with gzip.open(path, "wb", compresslevel=1) as out:
        for line in before:
            out.write(line.encode("utf-8") + b"\n")
        piece = b"x" * chunk
        left = line_chars
        out.write(b'{"id": "')
        while left > 0:
            out.write(piece[:min(left, chunk)])
            left -= chunk
        out.write(b'"}\n')
        for line in after:
            out.write(line.encode("utf-8") + b"\n")
    return path


def write_unclosed_atom_entries(path: Path, size_bytes: int) -> Path:
    """An Atom feed whose body is `size_bytes` of <entry> lines that never close (quadratic for a parser
    that scans from the start for every entry)."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(ATOM_HEAD)
        line = "<entry>\n"
        out.write(line * (size_bytes // len(line)))
    return path


def write_atom(path: Path, entries: int, abstract_chars: int = 60) -> Path:
    with open(path, "w", encoding="utf-8") as out:
        out.write(ATOM_HEAD)
        for number in range(entries):
            out.write(f"<entry>\n<id>http://arxiv.org/abs/2401.{number:05d}v1</id>\n"
                      f"<title>Valid entry {number} on sparse routing</title>\n"
                      f"<summary>{'s' * abstract_chars}</summary>\n</entry>\n")
        out.write("</feed>\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="write a hostile file")
    parser.add_argument("kind", choices=["gzip-long-line", "unclosed-atom", "deep-json", "huge-abstract"])
    parser.add_argument("path", type=Path)
    parser.add_argument("--size", type=int, default=10 * 2**30, help="bytes of the hostile part")
    args = parser.parse_args()
    if args.kind == "gzip-long-line":
        write_gzip_long_line(args.path, args.size, [json.dumps(kaggle_record(1))], [json.dumps(kaggle_record(2))])
    elif args.kind == "unclosed-atom":
        write_unclosed_atom_entries(args.path, args.size)
    elif args.kind == "deep-json":
        write_jsonl(args.path, [json.dumps(kaggle_record(1)), deeply_nested(args.size), json.dumps(kaggle_record(2))])
    else:
        write_jsonl(args.path, [json.dumps(kaggle_record(1, abstract="a" * args.size)),
                                json.dumps(kaggle_record(2))])


if __name__ == "__main__":
    main()
