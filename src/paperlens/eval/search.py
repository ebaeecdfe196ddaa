"""Search quality on a labelled collection: known-item search (title -> MRR, abstract sentence ->
recall@10) and topical precision@10 with author keywords as queries."""

from __future__ import annotations

import random
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from paperlens.eval import ICLR_2026, EvalError
from paperlens.search.hybrid import HybridSearcher
from paperlens.store import Store, keyword_norm

DEFAULT_DATA = ICLR_2026

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@dataclass
class SearchEval:
    mode: str
    title_mrr: float
    title_recall10: float
    sentence_recall10: float
    sentence_mrr: float
    keyword_p10: float
    queries: int
    ms_per_query: float

    def as_dict(self) -> dict:
        return dict(vars(self))


def evaluate_search(store: Store, *, samples: int = 300, keyword_queries: int = 150, seed: int = 13,
                    modes: tuple[str, ...] = ("keyword", "semantic", "hybrid")) -> list[SearchEval]:
    rng = random.Random(seed)
    papers = [p for p in store.iter_papers() if p.title and p.abstract]
    picked = rng.sample(papers, min(samples, len(papers)))
    sentence_queries = []
    for paper in picked:
        sentences = [s for s in _SENTENCE.split(paper.abstract) if len(s.split()) >= 8]
        if sentences:
            sentence_queries.append((paper.id, rng.choice(sentences)))
    by_keyword: dict[str, set[str]] = defaultdict(set)
    shown: dict[str, str] = {}
    for paper in papers:
        for kw in paper.keywords:
            norm = keyword_norm(kw)
            by_keyword[norm].add(paper.id)
            shown.setdefault(norm, kw)
    frequent = sorted(k for k, ids in by_keyword.items() if len(ids) >= 10)
    topical = rng.sample(frequent, min(keyword_queries, len(frequent)))
    searcher = HybridSearcher(store)
    results = []
    for mode in modes:
        start, n = time.perf_counter(), 0
        title_rr, title_hit = [], []
        for paper in picked:
            rank = _rank(searcher.search(paper.title, limit=100, mode=mode), paper.id)
            title_rr.append(1.0 / rank if rank else 0.0)
            title_hit.append(bool(rank and rank <= 10))
            n += 1
        sent_rr, sent_hit = [], []
        for pid, sentence in sentence_queries:
            rank = _rank(searcher.search(sentence, limit=100, mode=mode), pid)
            sent_rr.append(1.0 / rank if rank else 0.0)
            sent_hit.append(bool(rank and rank <= 10))
            n += 1
        precisions = []
        for norm in topical:
            hits = searcher.search(shown[norm], limit=10, mode=mode)
            precisions.append(sum(h.id in by_keyword[norm] for h in hits) / 10)
            n += 1
        elapsed = time.perf_counter() - start
        results.append(SearchEval(
            mode=mode, title_mrr=_mean(title_rr), title_recall10=_mean(title_hit), sentence_recall10=_mean(sent_hit),
            sentence_mrr=_mean(sent_rr), keyword_p10=_mean(precisions), queries=n,
            ms_per_query=1000 * elapsed / max(n, 1)))
    return results


def _rank(hits, pid: str) -> int | None:
    for i, hit in enumerate(hits, start=1):
        if hit.id == pid:
            return i
    return None


def _mean(values) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0


def evaluate_search_on(data: Path = DEFAULT_DATA, workdir: Path | None = None, *, samples: int = 300,
                       keyword_queries: int = 150, modes: tuple[str, ...] = ("keyword", "semantic", "hybrid"),
                       progress: Callable[[str], None] = lambda message: None) -> tuple[int, list[SearchEval]]:
    """Build the collection from `data` (a folder of ICLR-style CSV files, or one file) in `workdir`
    (a temporary folder when None; an existing database there is reused), embed it with the default
    `embed` step, and evaluate. Returns the number of papers and one SearchEval per mode; `progress`
    gets a line after the ingest and after the embedding."""
    from paperlens.enrich.registry import load_steps
    from paperlens.enrich.runner import run_step
    from paperlens.ingest.pipeline import ingest_paths

    if not data.exists():
        raise EvalError(f"{data}: not found (the ICLR 2026 set lives in ../shared/data/iclr2026)")
    files = sorted(data.glob("*.csv")) if data.is_dir() else [data]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp) if workdir is None else workdir
        workdir.mkdir(parents=True, exist_ok=True)
        store = Store(workdir / "eval-search.db")
        try:
            if store.count() == 0:
                report = ingest_paths(store, files)
                progress(f"ingested {report.valid} papers ({report.rejected} rejected)")
            step = load_steps()["embed"].create()
            embedded = run_step(store, step, batch_size=128)
            progress(f"embedded {embedded.done} papers ({embedded.skipped} already done)")
            results = evaluate_search(store, samples=samples, keyword_queries=keyword_queries, modes=modes)
            return store.count(), results
        finally:
            store.close()


def report_lines(papers: int, results: list[SearchEval]) -> list[str]:
    """The table `paperlens eval search` prints."""
    lines = [f"papers: {papers}",
             f"{'mode':10s} {'title MRR':>10s} {'title R@10':>11s} {'sent. R@10':>11s} {'sent. MRR':>10s} "
             f"{'kw P@10':>8s} {'ms/query':>9s}"]
    for r in results:
        lines.append(f"{r.mode:10s} {r.title_mrr:10.3f} {r.title_recall10:11.3f} {r.sentence_recall10:11.3f} "
                     f"{r.sentence_mrr:10.3f} {r.keyword_p10:8.3f} {r.ms_per_query:9.1f}")
    return lines
