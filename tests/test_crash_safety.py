"""SIGKILL `paperlens ingest` at random points, rerun, and check nothing is lost or duplicated."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperlens.store import Store

N_PAPERS = 3000


def _papers_file(path: Path) -> Path:
    rng = random.Random(7)
    words = "attention model merging reasoning alignment sparse token graph policy reward data".split()
    with path.open("w", encoding="utf-8") as out:
        for i in range(N_PAPERS):
            title = f"Paper {i}: " + " ".join(rng.choice(words) for _ in range(6))
            abstract = f"Abstract number {i}. " + " ".join(rng.choice(words) for _ in range(60))
            out.write(json.dumps({"id": f"test:{i}", "title": title, "abstract": abstract, "authors": [f"A {i % 50}"],
                                  "keywords": [rng.choice(words)], "sources": [], "summary": {}, "topic": None}) + "\n")
    return path


def _cli(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", "from paperlens.cli import main; main()", "--db", str(db), *args]


def _count(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT count(*) FROM papers").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ingest_killed_at_random_points_loses_nothing(tmp_path, seed):
    rng = random.Random(seed)
    data = _papers_file(tmp_path / "papers.jsonl")
    db = tmp_path / "crash.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for _ in range(2):
        target = rng.randint(1, N_PAPERS - 1)
        proc = subprocess.Popen(_cli(db, "ingest", "--batch-size", "50", "-q", str(data)), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while proc.poll() is None and _count(db) < target and time.monotonic() < deadline:
            time.sleep(0.005)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    done = subprocess.run(_cli(db, "ingest", "-q", str(data)), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ids = [r[0] for r in conn.execute("SELECT id FROM papers")]
    assert len(ids) == len(set(ids)) == N_PAPERS
    assert set(ids) == {f"test:{i}" for i in range(N_PAPERS)}
    assert Store(db).integrity_check() == "ok"  # includes the full-text index
    assert conn.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'number'").fetchone()[0] == N_PAPERS
    # every paper is found under its own id key, exactly once
    assert conn.execute("SELECT count(*) FROM paper_keys WHERE key LIKE 'test:%'").fetchone()[0] == N_PAPERS
    again = subprocess.run(_cli(db, "ingest", "-q", str(data)), env=env, capture_output=True, text=True)
    assert f"unchanged: {N_PAPERS}" in again.stdout
