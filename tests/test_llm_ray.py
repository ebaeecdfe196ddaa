"""`enrich --engine ray` on a local Ray instance gives the same stored results as the local engine."""

from __future__ import annotations

import os
from collections import Counter

import pytest

from paperlens.enrich.base import Step
from paperlens.enrich.llm import client as llm_client
from paperlens.enrich.llm.step import LLMSummaryStep
from paperlens.enrich.runner import run_step
from paperlens.store import Store

from .fake_llm import FakeLLM
from .llm_helpers import fake_env, make_papers

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


@pytest.mark.slow
def test_ray_engine_matches_local_engine(tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    from paperlens.enrich.ray_engine import GCS_CONNECT_TIMEOUT_S, local_cluster_patience, run_steps_ray

    llm_client.PLAIN_JSON_ENDPOINTS.clear()
    with FakeLLM() as fake:
        for key, value in fake_env(fake.base_url, PAPERLENS_LLM_BACKOFF_BASE="0.05").items():
            monkeypatch.setenv(key, value)
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

        for name in ("RAY_gcs_rpc_server_connect_timeout_s", "RAY_py_gcs_connect_timeout_s"):
            monkeypatch.delenv(name, raising=False)
        local_cluster_patience()
        assert os.environ["RAY_gcs_rpc_server_connect_timeout_s"] == GCS_CONNECT_TIMEOUT_S
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING")
        try:
            (report,) = run_steps_ray(str(ray_db), ["llm-summary"], batch_size=4, options={"lang": "zh,en"},
                                      actors=2)
            assert (report.done, report.failed) == (local.done, local.failed) == (11, 2)
            assert _signature(fake.requests) == +local_requests  # the same requests, each once
            assert _comparable(Store(ray_db)) == _comparable(Store(local_db))
            ray_stats, local_stats = Store(ray_db).stats()["llm"], Store(local_db).stats()["llm"]
            assert ray_stats["requests"] == len(fake.requests) == local_stats["requests"] - 2
            assert ray_stats["cached_responses"] == local_stats["cached_responses"]

            # a second run finds nothing to do and sends nothing
            before = len(fake.requests)
            (again,) = run_steps_ray(str(ray_db), ["llm-summary"], options={"lang": "zh,en"}, actors=2)
            assert len(fake.requests) == before and again.skipped == len(TITLES) and again.done == 0

            # a step that keeps only its output uses Step's default Ray hooks (nothing to ship, nothing back)
            from paperlens.enrich.registry import load_steps

            keywords = load_steps()["keywords"]
            assert keywords.remote_hints is Step.remote_hints and keywords.take_remote_state is Step.take_remote_state
            local_kw = run_step(Store(local_db), keywords.create())
            (ray_kw,) = run_steps_ray(str(ray_db), ["keywords"], batch_size=4, options={"lang": None}, actors=2)
            assert (ray_kw.done, ray_kw.failed) == (local_kw.done, local_kw.failed) == (len(TITLES), 0)
            for paper in Store(local_db).iter_papers():
                mine, theirs = (Store(db).enrichments_for(paper.id)["keywords"] for db in (ray_db, local_db))
                assert (mine["output"], mine["version"]) == (theirs["output"], theirs["version"])
        finally:
            ray.shutdown()
