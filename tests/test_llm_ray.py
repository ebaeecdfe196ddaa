"""`enrich --engine ray` on a local Ray instance gives the same stored results as the local engine."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from paperlens.enrich.base import Step
from paperlens.enrich.llm import client as llm_client
from paperlens.enrich.llm.step import LLMSummaryStep
from paperlens.enrich.runner import run_step
from paperlens.store import Store

from .fake_llm import FakeLLM
from .llm_helpers import fake_env, make_papers

SRC = str(Path(__file__).resolve().parents[1] / "src")
TITLES = [f"Scaled Paper {i}" for i in range(10)] + ["Broken Paper [[malformed]]", "Half Paper [[fail-zh]]",
                                                     "Flaky Paper [[500]]"]


def _signature(requests: list[dict]) -> Counter:
    return Counter((r["title"], r["lang"], r["kind"], r["status"]) for r in requests)


def _comparable(store: Store) -> dict[str, tuple]:
    out = {}
    for paper in store.iter_papers():
        row = store.enrichments_for(paper.id)["llm-summary"]
        output = row["output"]
        if output:
            output = {**output, "provenance": {k: v for k, v in output["provenance"].items() if k != "generated_at"}}
        out[paper.id] = (row["status"], row["version"], row["model"], row["error"], output)
    return out


def _enrich_ray(db, steps: str, env: dict[str, str], *extra: str) -> dict[str, tuple[int, int, int]]:
    """`paperlens enrich --engine ray` in its own process (and process group): a Ray start that crashes
    or hangs fails this test, not the test worker (an abort inside ray.init once took a CI worker down,
    and xdist ran the test again on each replacement). Returns each step's (done, failed, skipped)."""
    cmd = [sys.executable, "-m", "paperlens", "--db", str(db), "enrich", "--engine", "ray", "--steps", steps,
           *extra]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=RAY_RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"enrich --engine ray ran past {RAY_RUN_TIMEOUT_S} s\n{out}\n{err[-4000:]}")
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out}\n{err[-4000:]}"
    reports = {m["step"]: (int(m["done"]), int(m["failed"]), int(m["skipped"]))
               for m in REPORT_LINE.finditer(out)}
    assert set(reports) == set(steps.split(",")), out
    return reports


REPORT_LINE = re.compile(r"^(?P<step>[\w-]+): done (?P<done>\d+), failed (?P<failed>\d+), skipped (?P<skipped>\d+)$",
                         re.MULTILINE)
RAY_RUN_TIMEOUT_S = 300


@pytest.mark.slow
def test_ray_engine_matches_local_engine(tmp_path, monkeypatch):
    pytest.importorskip("ray")

    llm_client.PLAIN_JSON_ENDPOINTS.clear()
    with FakeLLM() as fake:
        for key, value in fake_env(fake.base_url, PAPERLENS_LLM_BACKOFF_BASE="0.05").items():
            monkeypatch.setenv(key, value)
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # a local Ray, started by the run
        env.update(PAPERLENS_RAY_ACTORS="2", PYTHONPATH=os.pathsep.join(filter(None, [SRC, env.get("PYTHONPATH")])))
        local_db, ray_db = tmp_path / "local.db", tmp_path / "ray.db"
        for db in (local_db, ray_db):
            Store(db).ingest(make_papers(TITLES))
        local = run_step(Store(local_db), LLMSummaryStep.create(lang="zh,en"), retry_failed=False)
        local_requests = _signature(fake.requests)
        fake.reset()
        # Answers the Ray database already has (as after an interrupted run): the driver must ship them to
        # the workers, which then send nothing for them.
        step = LLMSummaryStep.create(lang="zh,en")
        known = {p.id: p for p in Store(local_db).iter_papers()}
        warm = [known["p000"], known["p011"]]  # a plain paper, and the one whose Chinese digest fails
        entries = Store(local_db).llm_cache_get([step.cache_key(p, "en") for p in warm])
        Store(ray_db).llm_record(list(entries.values()), [])
        for paper in warm:
            local_requests[(paper.title, "en", "summary", 200)] -= 1

        report = _enrich_ray(ray_db, "llm-summary", env, "--batch-size", "4", "--lang", "zh,en")
        assert report["llm-summary"][:2] == (local.done, local.failed) == (11, 2)
        assert _signature(fake.requests) == +local_requests  # the same requests, each once
        assert _comparable(Store(ray_db)) == _comparable(Store(local_db))
        ray_stats, local_stats = Store(ray_db).stats()["llm"], Store(local_db).stats()["llm"]
        assert ray_stats["requests"] == len(fake.requests) == local_stats["requests"] - 2
        assert ray_stats["cached_responses"] == local_stats["cached_responses"]

        # a second run finds nothing to do and sends nothing
        before = len(fake.requests)
        again = _enrich_ray(ray_db, "llm-summary", env, "--lang", "zh,en")
        assert len(fake.requests) == before and again["llm-summary"] == (0, 0, len(TITLES))

        # a step that keeps only its output uses Step's default Ray hooks (nothing to ship, nothing back)
        from paperlens.enrich.registry import load_steps

        keywords = load_steps()["keywords"]
        assert keywords.remote_hints is Step.remote_hints and keywords.take_remote_state is Step.take_remote_state
        local_kw = run_step(Store(local_db), keywords.create())
        ray_kw = _enrich_ray(ray_db, "keywords", env, "--batch-size", "4")
        assert ray_kw["keywords"][:2] == (local_kw.done, local_kw.failed) == (len(TITLES), 0)
        for paper in Store(local_db).iter_papers():
            mine, theirs = (Store(db).enrichments_for(paper.id)["keywords"] for db in (ray_db, local_db))
            assert (mine["output"], mine["version"]) == (theirs["output"], theirs["version"])


def test_local_ray_cluster_waits_for_its_gcs(monkeypatch):
    """Ray's own 5 s for the GCS to answer is a SIGABRT of the driver on busy cores: the local cluster
    the engine starts waits longer, and a value the user set is kept."""
    from paperlens.enrich.ray_engine import GCS_CONNECT_TIMEOUT_S, local_cluster_patience

    monkeypatch.delenv("RAY_gcs_rpc_server_connect_timeout_s", raising=False)
    monkeypatch.setenv("RAY_py_gcs_connect_timeout_s", "7")
    local_cluster_patience()
    assert os.environ["RAY_gcs_rpc_server_connect_timeout_s"] == GCS_CONNECT_TIMEOUT_S
    assert os.environ["RAY_py_gcs_connect_timeout_s"] == "7"
