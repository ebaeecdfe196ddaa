"""What every source adapter shares: the record it yields, the rejection it reports, file reading."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import ClassVar

from ..clean import detect_language, find_code_url, latex_to_text, repo_name
from ..ids import match_keys, normalize_arxiv_id, normalize_doi, paper_id
from ..models import Paper, SourceRef


@dataclass(frozen=True)
class Rejected:
    """A record that could not be read, with the file and line it started on."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class ReadContext:
    path: str
    as_of: date = field(default_factory=date.today)
    # (index, count, lines per block): read only the lines of every count-th block, starting at block
    # index. Set only for sources with `shardable`, so several processes can share one big file.
    shard: tuple[int, int, int] | None = None

    def skips(self, line: int) -> bool:
        """Whether line `line` (1-based) belongs to another shard."""
        if self.shard is None:
            return False
        index, count, block = self.shard
        return (line - 1) // block % count != index


class SourceError(Exception):
    """The whole file cannot be read (e.g. unknown format); names the file and line."""

    def __init__(self, path: str, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


def open_text(path: str | Path) -> io.TextIOBase:
    """Text stream of a possibly compressed file. Undecodable bytes survive as surrogates so the
    reader can reject just the records that hold them, with their line numbers."""
    path = Path(path)
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(path.suffix, None)
    raw = opener(path, "rb") if opener else open(path, "rb")  # noqa: SIM115
    # Lines end at '\n' only (a stray '\r' is not a new line), so line numbers match `wc -l` and editors.
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="\n")


_BAD_BYTE = re.compile("[\udc80-\udcff]")


def has_bad_bytes(text: str) -> bool:
    return not text.isascii() and _BAD_BYTE.search(text) is not None


def read_head(path: str | Path, size: int = 8192) -> str:
    with open_text(path) as handle:
        return handle.read(size)


class Source:
    """A source adapter: reads one file format and yields Papers (or Rejected), never writes the DB."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # One record per line: read() honours ReadContext.shard, and every record names its line
    # (Rejected.line, or Paper.sources[0].line), so the shards can be put back in file order.
    shardable: ClassVar[bool] = False

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        return False

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        raise NotImplementedError


def finish_paper(paper: Paper, ctx: ReadContext, source: str, line: int | None, source_id: str | None = None) -> Paper:
    """Fill what every source derives the same way: clean abstract, code link, language, ids."""
    title = latex_to_text(paper.title) if paper.title else ""
    raw = paper.abstract_raw or paper.abstract
    code_url = paper.code_url or find_code_url(raw)
    abstract = latex_to_text(raw, placeholder=repo_name(code_url))
    language = paper.language
    if not language or language == "en":
        language = detect_language(abstract or title)
    arxiv_id = normalize_arxiv_id(paper.arxiv_id)
    doi = normalize_doi(paper.doi)
    values = {
        "title": title, "abstract_raw": raw, "code_url": code_url, "abstract": abstract, "language": language,
        "arxiv_id": arxiv_id, "doi": doi,
        "keywords": _dedupe([k.strip() for k in paper.keywords if k and k.strip()]),
        "authors": _dedupe([a.strip() for a in paper.authors if a and a.strip()]),
        "sources": [SourceRef(source=source, path=ctx.path, line=line, source_id=source_id)],
    }
    if paper.date and not paper.year:
        values["year"] = int(paper.date[:4])
    if not paper.id:
        # origin: only for a record with no title and no author at all (see paper_id)
        values["id"] = paper_id(arxiv_id, doi, paper.openreview_id, title, abstract, authors=values["authors"],
                                year=values.get("year", paper.year), venue=paper.venue,
                                origin=(source, ctx.path, line, source_id))
    # Every value already has its field's type; pydantic's per-attribute __setattr__ would cost more
    # than the rest of this function on a bulk snapshot.
    paper.__dict__.update(values)
    paper.__pydantic_fields_set__.update(values)
    return paper


def record_keys(paper: Paper) -> list[str]:
    keys = match_keys(paper.arxiv_id, paper.doi, paper.openreview_id, paper.title, paper.abstract)
    if paper.id and paper.id not in keys:
        keys.insert(0, paper.id)
    return keys


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        key = item.lower()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
