"""`paperlens ingest` CPU per paper of two source trees, alternated in one run, with bench/limits.py's bare
script beside them (its run_cpu and BARE_INGEST): what a change to ingest did, on a noisy machine.

    .venv/bin/python bench/ingest_ab.py OLD_TREE NEW_TREE [--papers 100000] [--rounds 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import limits  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/plingest-ab"))
    args = parser.parse_args()
    work, n = args.workdir, args.papers
    work.mkdir(parents=True, exist_ok=True)
    snapshot = work / "snapshot.jsonl"
    if not snapshot.exists() or sum(1 for _ in open(snapshot, encoding="utf-8")) != n:
        limits.generate(limits.load_sample(limits.DEFAULT_SAMPLE), n, snapshot)
    load0 = os.getloadavg()
    results: dict[str, list[float]] = {"old": [], "new": [], "bare": []}

    def clean(db: Path) -> None:
        for f in work.glob(db.name + "*"):
            shutil.rmtree(f) if f.is_dir() else f.unlink()

    for rnd in range(args.rounds):
        trees = [("old", args.old), ("new", args.new)]
        for name, tree in trees if rnd % 2 == 0 else trees[::-1]:
            db = work / f"ab_{name}.db"
            clean(db)
            limits.ENV["PYTHONPATH"] = str(tree.resolve() / "src")
            _, cpu = limits.run_cpu([limits.PY, "-m", "paperlens", "--db", str(db), "ingest", str(snapshot)])
            results[name].append(cpu / n * 1000)
        db = work / "ab_bare.db"
        clean(db)
        _, cpu = limits.run_cpu([limits.PY, "-c", limits.BARE_INGEST, str(snapshot), str(db)])
        results["bare"].append(cpu / n * 1000)
    load1 = os.getloadavg()
    for name, values in results.items():
        print(f"{name}: min {min(values):.4f} ms/paper; rounds {' '.join(f'{v:.4f}' for v in values)}")
    old, new, bare = (min(results[k]) for k in ("old", "new", "bare"))
    print(f"old/bare {old / bare:.2f}x  new/bare {new / bare:.2f}x  new/old {new / old:.3f}")
    print(f"load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
