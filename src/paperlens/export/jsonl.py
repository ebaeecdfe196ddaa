"""JSONL export: one paper per line, lossless and re-ingestable."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from paperlens.core.models import Paper


def write_jsonl(papers: Iterable[Paper], out: TextIO) -> int:
    n = 0
    for paper in papers:
        out.write(json.dumps(paper.export_dict(), ensure_ascii=False) + "\n")
        n += 1
    return n
