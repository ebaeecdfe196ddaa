"""Build the Chinese-English word list for cross-lingual search (src/paperlens/data/lexicon/zh-en.json).

From the bundled 002 seed papers, each of which has a Chinese structured summary beside its English
abstract; papers that `paperlens.search.crosslingual.held_out` picks are left out, so the evaluation
(`paperlens eval search --lang zh`) runs on pairs the list never saw. No download, no other data.

    PYTHONPATH=src python scripts/build_lexicon.py [--out src/paperlens/data/lexicon/zh-en.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from paperlens.core.models import SUMMARY_FIELDS
from paperlens.core.paths import PACKAGE_DIR
from paperlens.search.crosslingual import LEXICON, build_lexicon, held_out
from paperlens.sources import read_records


def seed_pairs(include_held_out: bool = False) -> list[tuple[str, str, str]]:
    """(paper id, Chinese summary text, English abstract) of the 002 seed papers."""
    out = []
    for path in sorted((PACKAGE_DIR / "sample").glob("002_*.txt")):
        for paper in read_records(path):
            if not hasattr(paper, "summary") or "zh" not in paper.summary or not paper.abstract:
                continue
            pid = paper.id
            if held_out(pid) and not include_held_out:
                continue
            zh = " ".join(getattr(paper.summary["zh"], f) for f in SUMMARY_FIELDS)
            out.append((pid, zh, paper.abstract))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=LEXICON)
    args = parser.parse_args()
    pairs = seed_pairs()
    lexicon = build_lexicon((zh, en) for _, zh, en in pairs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"built_from": "002 seed papers (Chinese summary <-> English abstract), held-out share left out",
            "papers": len(pairs), "script": "scripts/build_lexicon.py"}
    args.out.write_text(json.dumps({"meta": meta, **lexicon}, ensure_ascii=False, separators=(",", ":")) + "\n",
                        encoding="utf-8")
    print(f"{args.out}: {len(lexicon['zh_en'])} Chinese words, {len(lexicon['en_zh'])} English words "
          f"from {len(pairs)} papers")


if __name__ == "__main__":
    main()
