"""Wrong merges on real files: every file of ../shared/data/realworld/FORMAT/ that paperlens reads, all
ingested into one database; then each stored paper is judged from its entries alone.

    PYTHONPATH=src .venv/bin/python bench/realworld_merges.py [--formats bibtex] [-v]

A paper is a wrong merge when two of its entries carry conflicting arXiv ids, DOIs or OpenReview ids, or
when some entry is tied to the others by no evidence of its own (a shared strong id, the same abstract,
or a similar title with years at most one apart). Uses only APIs older versions have too, so it measures
any version (tests/test_merge_safety.py checks the same on the BibTeX files).
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "src"))  # after PYTHONPATH: PYTHONPATH=../main/src measures that version

from paperlens.core.clean import normalize_key  # noqa: E402
from paperlens.core.models import Paper  # noqa: E402
from paperlens.ingest.pipeline import ingest_paths  # noqa: E402
from paperlens.sources import SourceError, read_records  # noqa: E402
from paperlens.store import Store  # noqa: E402

REALWORLD = ROOT.parent / "shared" / "data" / "realworld"
STRONG = ("arxiv_id", "doi", "openreview_id")


def same(a: Paper, b: Paper) -> bool:
    if any(getattr(a, f) and getattr(a, f) == getattr(b, f) for f in STRONG):
        return True
    if a.abstract and normalize_key(a.abstract) == normalize_key(b.abstract):
        return True
    ratio = difflib.SequenceMatcher(None, normalize_key(a.title), normalize_key(b.title)).ratio()
    return ratio >= 0.8 and not (a.year and b.year and abs(a.year - b.year) > 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--formats", nargs="*", default=["bibtex"], help="folders of realworld/ ('all': every one)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    folders = sorted(p for p in REALWORLD.iterdir() if p.is_dir()) if args.formats == ["all"] else \
        [REALWORLD / f for f in args.formats]
    records: dict[tuple[str, int | None], Paper] = {}
    files = []
    for folder in folders:
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            try:
                found = [r for r in read_records(path) if isinstance(r, Paper)]
            except (SourceError, ValueError, OSError):
                continue  # a format paperlens does not read (yet)
            files.append(path)
            records.update(((str(path), r.sources[0].line), r) for r in found)
    store = Store(Path(tempfile.mkdtemp()) / "realworld.db")
    report = ingest_paths(store, files, parallel=False)
    wrong = absorbed = 0
    for paper in store.iter_papers():
        entries = [records[(s.path, s.line)] for s in paper.sources if (s.path, s.line) in records]
        clash = [f for i, a in enumerate(entries) for b in entries[i + 1:] for f in STRONG
                 if getattr(a, f) and getattr(b, f) and getattr(a, f) != getattr(b, f)]
        reached, todo = {0}, [0]
        while todo and entries:
            i = todo.pop()
            for j in range(len(entries)):
                if j not in reached and same(entries[i], entries[j]):
                    reached.add(j)
                    todo.append(j)
        loose = len(entries) - len(reached)
        if clash or loose:
            wrong += 1
            absorbed += max(loose, 1)
            if args.verbose:
                print(f"  {paper.id}: {len(entries)} entries, {loose} tied by nothing"
                      + (f", conflicting {sorted(set(clash))}" if clash else ""))
    print(f"{len(files)} files, {len(records)} entries -> {store.count()} papers "
          f"(new {report.new}, merged {report.merged}, unchanged {report.unchanged}); "
          f"wrong merges: {wrong} papers holding {absorbed} wrongly merged entries")


if __name__ == "__main__":
    main()
