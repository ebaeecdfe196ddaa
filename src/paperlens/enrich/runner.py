"""Runs enrichment steps over the store in batches, skipping papers whose content hash and step
version are unchanged. Each batch commits on its own, so an interrupted run resumes where it stopped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from paperlens.core.models import Paper
from paperlens.enrich.base import Step, StepResult
from paperlens.store import Store


@dataclass
class StepReport:
    step: str
    done: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def pending_papers(store: Store, step: Step, limit: int | None = None, retry_failed: bool = True) -> list[Paper]:
    done = store.enrichment_done(step.name, step.version)
    failed = set() if retry_failed else store.enrichment_failed(step.name, step.version)
    out = []
    for paper in store.iter_papers():
        if done.get(paper.id) == paper.content_hash() or paper.id in failed:
            continue
        out.append(paper)
        if limit is not None and len(out) >= limit:
            break
    return out


def run_step(store: Store, step: Step, *, limit: int | None = None, batch_size: int = 64,
             retry_failed: bool = True, on_progress: Callable[[int, int], None] | None = None) -> StepReport:
    report = StepReport(step.name)
    todo = pending_papers(store, step, limit, retry_failed)
    report.skipped = store.count() - len(todo)
    step.bind_store(store)
    if on_progress:
        on_progress(0, len(todo))
    for start in range(0, len(todo), batch_size):
        batch = todo[start:start + batch_size]
        results = _run_batch(step, batch)
        by_id = {p.id: p for p in batch}
        rows = []
        for result in results:
            paper = by_id[result.paper_id]
            rows.append({
                "paper_id": paper.id, "step": step.name, "version": step.version,
                "content_hash": paper.content_hash(), "status": "ok" if result.ok else "failed",
                "output": result.output if result.ok else None, "error": None if result.ok else result.error,
                "model": result.model or step.model,
            })
            if result.ok:
                report.done += 1
            else:
                report.failed += 1
                if len(report.errors) < 20:
                    report.errors.append(f"{paper.id}: {result.error}")
        step.after_batch(store, batch, [r for r in results if r.ok])
        store.save_enrichments(rows)
        if on_progress:
            on_progress(len(batch), len(todo))
    return report


def _run_batch(step: Step, batch: list[Paper]) -> list[StepResult]:
    """The step's results for `batch`. When the step fails on the batch as a whole (any exception,
    MemoryError included), each paper is run on its own, so only the paper(s) it fails on are recorded as
    failed, each with its reason, and the innocent rest of the batch is enriched; the run goes on."""
    try:
        return step.run(batch)
    except Exception as exc:  # noqa: BLE001 - a crashing step fails visibly, never the whole run
        if len(batch) == 1:
            return [StepResult(batch[0].id, error=_reason(exc))]
    results: list[StepResult] = []
    for paper in batch:
        try:
            results.extend(step.run([paper]))
        except Exception as exc:  # noqa: BLE001
            results.append(StepResult(paper.id, error=_reason(exc)))
    return results


def _reason(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:500]}" if text else type(exc).__name__
