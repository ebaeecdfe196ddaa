"""Source adapters. Each reads one format and yields Paper or Rejected; none writes the database.

Adapters are plugins (`register_sources`, docs/plugins.md), looked up by format name in SOURCES;
`detect_format` picks one from a file's name and first bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from paperlens.core.models import Paper
from paperlens.core.plugins import Registry, add_default_plugins
from paperlens.sources.base import ReadContext, Rejected, Source, SourceError, read_head

# Every source class by name, from the plugin registry: paperlens' own (sources/default_plugins.py) first, in
# detection order, then those of plugins in the `paperlens` entry-point group.
add_default_plugins("paperlens.sources.default_plugins")
SOURCES: Registry = Registry("sources")


def claims(cls: type[Source], path: Path, head: str) -> bool:
    """Whether `cls` reads this file. A sniff that fails on a hostile head (JSON nested past the decoder's
    limit, say) does not claim it, and never stops detection."""
    try:
        return bool(cls.sniff(path, head))
    except (ValueError, RecursionError, MemoryError, UnicodeError):
        return False


def detect_format(path: str | Path) -> str:
    path = Path(path)
    try:
        head = read_head(path)
    except OSError as exc:
        raise SourceError(str(path), 0, f"cannot read file: {exc.strerror or exc}") from exc
    if not head.strip():
        raise SourceError(str(path), 1, "file is empty")
    # Fallback readers (the generic table/JSON one) come after every specific format, whatever the order.
    for name, cls in sorted(SOURCES.items(), key=lambda item: getattr(item[1], "fallback", False)):
        if claims(cls, path, head):
            return name
    if "\x00" in head:  # UTF-16/32 text is decoded (base.sniff_encoding); this is binary or an odd encoding
        raise SourceError(str(path), 1, "unknown format: the file holds NUL bytes (binary, or text in an encoding "
                                        "other than UTF-8/16/32?); convert it to UTF-8")
    raise SourceError(str(path), 1, "unknown format; pass --format (one of: " + ", ".join(SOURCES) + ")")


def resolve_format(path: str | Path, fmt: str = "auto") -> str:
    """The source name that reads `path`: detected for 'auto', checked otherwise."""
    path = Path(path)
    if not path.is_file():  # stat only: a FIFO is never opened (that could block)
        raise SourceError(str(path), 0, "is a directory" if path.is_dir() else
                          "not a regular file (a FIFO, socket or device)" if path.exists() else "no such file")
    name = detect_format(path) if fmt == "auto" else fmt
    if name not in SOURCES:
        raise SourceError(str(path), 0, f"unknown format {name!r}; known: " + ", ".join(SOURCES))
    return name


def read_records(path: str | Path, fmt: str = "auto", as_of: date | None = None,
                 shard: tuple[int, int, int] | None = None) -> Iterator[Paper | Rejected]:
    """Papers (and rejections) in file order. `shard`: see ReadContext (only for shardable sources)."""
    name = resolve_format(path, fmt)
    if shard is not None and not SOURCES[name].shardable:
        raise ValueError(f"{name} records are not one per line: it cannot be read in shards")
    ctx = ReadContext(path=str(Path(path)), as_of=as_of or date.today(), shard=shard)
    return SOURCES[name]().read(ctx)


__all__ = ["SOURCES", "ReadContext", "Rejected", "Source", "SourceError", "detect_format", "read_records",
           "resolve_format"]
