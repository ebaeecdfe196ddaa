"""Keyword tags against author keywords: held-out 002 seed papers (a model trained without them) and the
shipped model on ICLR 2026 out of domain. hit@5 (>= 1 exact author keyword in the top 5), precision@5,
recall@5."""

from __future__ import annotations

import csv
import time
from pathlib import Path

from paperlens.eval import ICLR_2026, EvalError

DEFAULT_ICLR = ICLR_2026


def iclr_papers(folder: Path):
    """ICLR 2026 rows with author keywords and an abstract, as LabeledPaper."""
    from paperlens.enrich.models.keywords_train import LabeledPaper

    papers = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                tags = [t.strip() for t in (row.get("keywords") or "").split(",") if t.strip()]
                if tags and (row.get("abstract") or "").strip():
                    papers.append(LabeledPaper(row.get("title") or "", row["abstract"], tags))
    return papers


def held_out_evaluation(folds: int = 5, use_folds: int = 1, seed: int = 13) -> dict:
    """Train on the other folds of a fixed split of the 002 seeds, score the held-out fold(s)."""
    import numpy as np

    from paperlens.enrich.models.keywords_train import evaluate, seed_papers, train

    papers = seed_papers()
    fold_of = np.random.default_rng(seed).permutation(len(papers)) % folds
    results = []
    for fold in range(use_folds):
        train_papers = [p for p, f in zip(papers, fold_of, strict=True) if f != fold]
        test_papers = [p for p, f in zip(papers, fold_of, strict=True) if f == fold]
        model = train(train_papers)
        results.append(evaluate(lambda t, a, m=model: [x for x, _ in m.extract(t, a)], test_papers))
    total = sum(r["papers"] for r in results)
    merged = {key: sum(r[key] * r["papers"] for r in results) / total for key in ("hit_rate", "precision", "recall")}
    return {"papers": total, "folds_scored": use_folds, "folds": folds, **merged}


def iclr_evaluation(folder: Path = DEFAULT_ICLR) -> dict:
    """The shipped model on ICLR 2026 author keywords (out of domain), with its speed."""
    from paperlens.enrich.models.keywords import default_model
    from paperlens.enrich.models.keywords_train import evaluate

    if not folder.is_dir():
        raise EvalError(f"{folder}: ICLR 2026 data not found (pass --iclr-data)")
    papers = iclr_papers(folder)
    model = default_model()
    start = time.perf_counter()
    result = evaluate(lambda t, a: [x for x, _ in model.extract(t, a)], papers)
    result["papers_per_second"] = round(len(papers) / (time.perf_counter() - start), 1)
    return result


def evaluate_keywords(*, cv: bool = False, iclr_data: Path | None = None) -> dict[str, dict]:
    """Reports by name: the held-out seeds (one fold, or all five when `cv`), and ICLR 2026 out of
    domain when `iclr_data` is given."""
    report = {"seeds_held_out": held_out_evaluation(use_folds=5 if cv else 1)}
    if iclr_data is not None:
        report["iclr2026_out_of_domain"] = iclr_evaluation(iclr_data)
    return report


def report_line(name: str, r: dict) -> str:
    """One report as the line `paperlens eval keywords` prints."""
    return (f"{name}: papers {r['papers']}  hit@5 {r['hit_rate']:.3f}  precision@5 {r['precision']:.3f}  "
            f"recall@5 {r['recall']:.3f}" + (f"  ({r['papers_per_second']} papers/s)"
                                             if "papers_per_second" in r else ""))
