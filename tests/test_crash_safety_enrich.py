"""SIGKILL `paperlens enrich` at random points, rerun, and check nothing is lost, duplicated or half-written.

Runs the real llm-summary step against the fake OpenAI-compatible server (tests/fake_llm.py) over HTTP, and
every local step that is registered and cheap (keywords) when the branch that adds it is present.
"""

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
from click.testing import CliRunner

from paperlens.cli import main
from paperlens.enrich.llm import client as llm_client
from paperlens.enrich.registry import load_steps
from paperlens.store import Store

from .fake_llm import FakeLLM
from .llm_helpers import fake_env, make_papers

ROOT = Path(__file__).resolve().parents[1]
N_PAPERS = 48
# Cheap real steps this test can run; the ones not registered on this branch are left out.
CHEAP_LOCAL_STEPS = [name for name in ("keywords",) if name in load_steps()]


def _titles() -> list[str]:
    words = "sparse attention routing reward model merging token graph policy alignment".split()
    rng = random.Random(0)
    titles = [f"Paper {i}: " + " ".join(rng.choice(words) for _ in range(4)) for i in range(N_PAPERS)]
    titles[5] += " [[malformed]]"  # a paper the step fails on: it must be recorded failed, with its error
    return titles


def _enrich(db: Path, step: str, env: dict[str, str], *extra: str) -> list[str]:
    return [sys.executable, "-c", "from paperlens.cli import main; main(prog_name='paperlens')", "--db", str(db),
            "enrich", "--steps", step, "--batch-size", "4", *extra]


def _rows(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT count(*) FROM enrichments").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("step,seed", [*((name, seed) for name in CHEAP_LOCAL_STEPS for seed in (1, 2)),
                                       ("llm-summary", 3)])
def test_enrich_killed_at_random_points_loses_nothing(tmp_path, step, seed):
    rng = random.Random(seed)
    db = tmp_path / "enrich.db"
    titles = _titles()
    store = Store(db)
    store.ingest(make_papers(titles))
    hashes = {p.id: p.content_hash() for p in store.iter_papers()}
    store.close()
    llm_client.PLAIN_JSON_ENDPOINTS.clear()
    with FakeLLM(latency=0.01) as fake:
        env = {**os.environ, **fake_env(fake.base_url), "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1"}
        extra = ("--lang", "en") if step == "llm-summary" else ()
        killed = 0
        for _ in range(2):
            target = rng.randint(_rows(db) + 1, N_PAPERS - 2)
            proc = subprocess.Popen(_enrich(db, step, env, *extra), env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while proc.poll() is None and _rows(db) < target and time.monotonic() < deadline:
                time.sleep(0.002)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                killed += 1
            proc.wait()
        assert killed, "every run finished before it could be killed: the test proved nothing"

        done = subprocess.run(_enrich(db, step, env, *extra), env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        # the rerun runs in-process (a fresh interpreter costs seconds): it must find nothing to do
        before = len(fake.requests)
        again = CliRunner().invoke(main, ["--db", str(db), "enrich", "--steps", step, *extra], env=fake_env(fake.base_url))
        assert again.exit_code == 0, again.output
        assert f"{step}: done 0, failed 0, skipped {N_PAPERS}" in again.output
        assert len(fake.requests) == before

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ids = [r[0] for r in conn.execute("SELECT id FROM papers")]
    assert sorted(ids) == sorted(hashes) and len(ids) == len(set(ids)) == N_PAPERS
    rows = conn.execute("SELECT paper_id, status, output, error, content_hash FROM enrichments WHERE step = ?",
                        (step,)).fetchall()
    assert sorted(r[0] for r in rows) == sorted(hashes), "one row per paper, none missing, none twice"
    for paper_id, status, output, error, content_hash in rows:
        assert content_hash == hashes[paper_id]
        if status == "ok":
            assert output and json.loads(output) and error is None, paper_id
        else:
            assert status == "failed" and error and output is None, paper_id
    if step == "llm-summary":
        failed = {r[0] for r in rows if r[1] == "failed"}
        assert failed == {"p005"}, failed  # the [[malformed]] paper, and only it
    assert conn.execute("SELECT count(*) FROM enrichments WHERE step <> ?", (step,)).fetchone()[0] == 0
