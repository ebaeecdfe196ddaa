"""Whether two source trees store the same thing: ingest the same files with each (in a fresh process, the
clock fixed) and compare every table row by row; the contentless full-text index through its fts5vocab
'instance' table (term, paper, column, position), its config and sizes as rows.

    PYTHONPATH=src .venv/bin/python bench/ingest_same.py OLD_TREE NEW_TREE [--papers 20000] [--workdir DIR]

Files: a generated arXiv snapshot (bench/ingest.py's records, parsed in child processes as big files
are), the same snapshot again (every paper unchanged), a copy with every tenth record reworded (merges),
and every fixture under tests/fixtures plus the seeds in src/paperlens/sample, ingested in process.
Prints the first differing rows of each table and exits 1 when anything differs.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from ingest import DEFAULT_SAMPLE, generate, load_sample  # noqa: E402

INGEST = '''
import sys
from pathlib import Path
from paperlens.store import connection
connection.utcnow = lambda: "2026-01-01T00:00:00+00:00"
from paperlens.ingest.pipeline import ingest_paths
from paperlens.store import Store
db, big = sys.argv[1], sys.argv[2:5]
small = sys.argv[5:]
store = Store(db)
for path in big:  # a big file: parsed in child processes
    r = ingest_paths(store, [path], parallel=True)
    print(path, r.new, r.merged, r.unchanged, r.rejected)
for path in small:
    r = ingest_paths(store, [path], parallel=False)
    print(path, r.new, r.merged, r.unchanged, r.rejected, [str(x) for x in r.rejections[:3]], r.file_errors[:1])
store.close() if hasattr(store, "close") else None
'''

SKIP = {"papers_fts_data", "papers_fts_idx"}  # the index's b-tree pages: compared through fts5vocab instead


def dump(db: Path) -> dict[str, list]:
    conn = sqlite3.connect(db)
    conn.execute("CREATE VIRTUAL TABLE temp.fts_terms USING fts5vocab(main, papers_fts, 'instance')")
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    out = {}
    for name in names:
        if name in SKIP or name.startswith("sqlite_"):
            continue
        if name == "papers_fts":
            rows = conn.execute("SELECT term, doc, col, offset FROM temp.fts_terms ORDER BY 1, 2, 3, 4").fetchall()
        else:
            rows = sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
        out[name] = rows
    out["integrity"] = [conn.execute("PRAGMA integrity_check").fetchone()]
    conn.execute("INSERT INTO papers_fts (papers_fts) VALUES ('integrity-check')")
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--papers", type=int, default=20000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ingest-same-"))
    work.mkdir(parents=True, exist_ok=True)
    snapshot = work / "same_snapshot.jsonl"
    if not snapshot.exists() or sum(1 for _ in open(snapshot, encoding="utf-8")) != args.papers:
        generate(load_sample(DEFAULT_SAMPLE), args.papers, snapshot)
    reworded = work / "same_reworded.jsonl"
    with open(snapshot, encoding="utf-8") as src, open(reworded, "w", encoding="utf-8") as out:
        for i, line in enumerate(src):
            if i % 10 == 0:
                record = json.loads(line)
                record["title"] += " (extended version)"
                record["abstract"] = record["abstract"] + " We add a section."
                record["journal-ref"] = record.get("journal-ref") or "Some Journal 1 (2020)"
                line = json.dumps(record, ensure_ascii=False) + "\n"
            out.write(line)
    root = args.old.resolve()  # the same files for both
    small = sorted(str(p) for p in (root / "tests" / "fixtures").iterdir() if p.is_file())
    small += sorted(str(p) for p in (root / "src" / "paperlens" / "sample").glob("*.txt"))
    dumps = []
    for tree, name in ((args.old, "old"), (args.new, "new")):
        db = work / f"same_{name}.db"
        for f in work.glob(db.name + "*"):
            f.unlink()
        env = {**os.environ, "PYTHONPATH": str(tree.resolve() / "src")}
        run = subprocess.run([sys.executable, "-c", INGEST, str(db), str(snapshot), str(snapshot), str(reworded),
                              *small], env=env, capture_output=True, text=True, cwd=work)
        if run.returncode:
            print(run.stdout, run.stderr)
            return 2
        print(f"{name}: {tree}\n" + "\n".join("  " + line for line in run.stdout.splitlines()[:3]))
        dumps.append((run.stdout, dump(db)))
    (out_a, a), (out_b, b) = dumps
    same = out_a == out_b
    if not same:
        print("the ingest reports differ")
    for table in sorted(set(a) | set(b)):
        rows_a, rows_b = a.get(table), b.get(table)
        if rows_a == rows_b:
            print(f"  {table}: {len(rows_a or [])} rows, identical")
            continue
        same = False
        print(f"  {table}: DIFFERS ({len(rows_a or [])} rows old, {len(rows_b or [])} new)")
        set_b = set(rows_b or [])
        shown = 0
        for row in rows_a or []:
            if row not in set_b and shown < 3:
                print(f"    old only: {repr(row)[:300]}")
                shown += 1
        set_a = set(rows_a or [])
        for row in [r for r in rows_b or [] if r not in set_a][:3]:
            print(f"    new only: {repr(row)[:300]}")
    print("identical" if same else "DIFFERENT")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
