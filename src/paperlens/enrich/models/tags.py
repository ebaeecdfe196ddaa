"""How a tag is shown: the paper's own spelling, with known acronyms in their usual case ('Moe' -> 'MoE',
'llms' -> 'LLMs', 'rlhf' -> 'RLHF'); the acronyms are the hand-written list of data/keywords/abbreviations.tsv.
Tags are matched by `paperlens.core.words.keyword_norm`, so 'MoE' and 'moe' are one tag shown one way."""

from __future__ import annotations

import re
from functools import lru_cache

from paperlens.core.paths import PACKAGE_DATA

ABBREVIATIONS = PACKAGE_DATA / "keywords" / "abbreviations.tsv"
_PIECES = re.compile(r"([\s\-‐‑–—/]+)")


@lru_cache(maxsize=1)
def acronyms() -> dict[str, str]:
    """lower case -> the acronym as written in the list (only forms with two or more capitals)."""
    out = {}
    for line in ABBREVIATIONS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            short = line.split("\t")[0].strip()
            if sum(c.isupper() for c in short) >= 2:
                out[short.lower()] = short
    return out


@lru_cache(maxsize=65536)
def tag_label(keyword: str) -> str:
    known = acronyms()
    pieces = _PIECES.split(keyword.strip())
    for i, piece in enumerate(pieces):
        lower = piece.lower()
        if lower in known:
            pieces[i] = known[lower]
        elif lower.endswith("s") and lower[:-1] in known:
            pieces[i] = known[lower[:-1]] + "s"
    return "".join(pieces)
