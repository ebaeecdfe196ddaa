"""`paperlens enrich --engine ray`: enrichment steps on a Ray cluster through Ray Data.

The driver picks the pending papers (same rules as the local runner), Ray Data maps them in batches over
a pool of actors (each builds the step once: clients, models), and the driver streams the results back
and writes them with Store.save_enrichments, batch by batch. Only the driver touches SQLite, so the
cluster may be remote (`RAY_ADDRESS=ray://head:10001`); saving is an upsert, so rerunning after a crash
repeats nothing that was saved. `Step` declares the hooks (with defaults that do nothing) for work a
step keeps beside its output (the LLM step's response cache): `remote_options()` -> what each worker
builds its step from, `remote_hints(papers)` -> per-paper JSON the driver ships with each paper,
`accept_hints(hints)` on the worker, and `take_remote_state()` / `absorb_remote_state()` to bring
per-paper state back to the driver's store."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from paperlens.core.envvars import env_int
from paperlens.core.models import Paper
from paperlens.enrich.base import Step, StepResult
from paperlens.enrich.registry import load_steps
from paperlens.enrich.runner import StepReport, pending_papers
from paperlens.store import Store

DEFAULT_ACTORS = 2


# Seconds a driver waits for the GCS of the local cluster it starts. Ray's own 5 s is a fatal abort of the
# whole process (SIGABRT from C++, no exception to catch) when the machine is busy: a CI run on 2 loaded
# cores lost its test worker that way in `ray.init`. Both settings are read from the environment by Ray's
# C++ config and inherited by the processes it starts; a value the user set is kept.
GCS_CONNECT_TIMEOUT_S = "60"


def local_cluster_patience() -> None:
    for name in ("RAY_gcs_rpc_server_connect_timeout_s", "RAY_py_gcs_connect_timeout_s"):
        os.environ.setdefault(name, GCS_CONNECT_TIMEOUT_S)


def _init_ray():
    import ray

    if not ray.is_initialized():
        # RAY_ADDRESS names a running cluster (`auto`: the one `ray start` left on this machine); without it
        # Ray starts a local one for this process ("local"; Ray's None would join whatever cluster last ran
        # here, even one whose driver died half-way through starting it, and wait on it).
        address = os.environ.get("RAY_ADDRESS") or "local"
        if address == "local":
            local_cluster_patience()
        ray.init(address=address, include_dashboard=False,
                 logging_level="WARNING", ignore_reinit_error=True)
    import ray.data

    ray.data.DataContext.get_current().enable_progress_bars = sys.stderr.isatty()
    return ray


class StepWorker:
    """A Ray Data actor: builds the step once and runs it on each batch of papers."""

    def __init__(self, name: str, options: dict[str, Any]):
        self.step = load_steps()[name].create(**options)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        papers = [Paper.model_validate_json(raw) for raw in batch["paper"]]
        self.step.accept_hints({p.id: json.loads(h) for p, h in zip(papers, batch["hint"], strict=True) if h})
        try:
            results = {r.paper_id: r for r in self.step.run(papers)}
        except Exception as exc:  # like the local runner: the batch fails visibly, the run goes on
            results = {p.id: StepResult(p.id, error=f"{type(exc).__name__}: {exc}") for p in papers}
        state = self.step.take_remote_state()
        out: dict[str, list] = {"paper_id": [], "output": [], "error": [], "model": [], "state": []}
        for paper in papers:
            result = results.get(paper.id) or StepResult(paper.id, error="step returned no result")
            out["paper_id"].append(paper.id)
            out["output"].append(json.dumps(result.output, ensure_ascii=False) if result.ok else "")
            out["error"].append("" if result.ok else (result.error or "no output"))
            out["model"].append(result.model or self.step.model or "")
            out["state"].append(json.dumps(state.get(paper.id) or {}, ensure_ascii=False))
        return out


def run_steps_ray(db: str, names: list[str], *, limit: int | None = None, batch_size: int = 64,
                  retry_failed: bool = False, options: dict[str, Any] | None = None,
                  actors: int | None = None) -> list[StepReport]:
    options = dict(options or {})
    registry = load_steps()
    actors = actors or env_int("PAPERLENS_RAY_ACTORS", DEFAULT_ACTORS, minimum=1)
    store = Store(db)
    ray = None
    reports = []
    for name in names:
        step = registry[name].create(**options)
        step.bind_store(store)
        report = StepReport(name)
        todo = pending_papers(store, step, limit, retry_failed)
        report.skipped = store.count() - len(todo)
        reports.append(report)
        if not todo:
            continue
        ray = ray or _init_ray()
        hints = step.remote_hints(todo)
        items = [{"paper": p.model_dump_json(), "hint": json.dumps(hints[p.id]) if p.id in hints else ""}
                 for p in todo]
        worker_options = step.remote_options(options, workers=actors)
        dataset = ray.data.from_items(items).map_batches(
            StepWorker, fn_constructor_kwargs={"name": name, "options": worker_options},
            batch_size=batch_size, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=1)
        by_id = {p.id: p for p in todo}
        for batch in dataset.iter_batches(batch_size=batch_size, batch_format="numpy"):
            _save_batch(store, step, report, by_id, batch)
    return reports


def _save_batch(store: Store, step: Step, report: StepReport, by_id: dict[str, Paper], batch: dict[str, Any]) -> None:
    rows, papers, ok_results, states = [], [], [], {}
    for pid, output, error, model, state in zip(batch["paper_id"], batch["output"], batch["error"],
                                                batch["model"], batch["state"], strict=True):
        paper = by_id[str(pid)]
        result = StepResult(paper.id, output=json.loads(output) if output else None, error=str(error) or None,
                            model=str(model) or None)
        ok = result.ok
        rows.append({"paper_id": paper.id, "step": step.name, "version": step.version,
                     "content_hash": paper.content_hash(), "status": "ok" if ok else "failed",
                     "output": result.output if ok else None, "error": None if ok else result.error,
                     "model": result.model or step.model})
        papers.append(paper)
        if ok:
            report.done += 1
            ok_results.append(result)
        else:
            report.failed += 1
            if len(report.errors) < 20:
                report.errors.append(f"{paper.id}: {result.error}")
        if state and state != "{}":
            states[paper.id] = json.loads(state)
    if states:
        step.absorb_remote_state(store, states)
    step.after_batch(store, papers, ok_results)
    store.save_enrichments(rows)
