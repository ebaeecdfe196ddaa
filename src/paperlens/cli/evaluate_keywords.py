"""eval keywords: keyword tags against author keywords on held-out seed papers (and ICLR 2026 out of domain)."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import click

from paperlens.cli import eval_group

DEFAULT_ICLR = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "iclr2026"


def iclr_papers(folder: Path):
    from paperlens.enrich.models.keywords import LabeledPaper

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

    from paperlens.enrich.models.keywords import evaluate, seed_papers, train

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


@eval_group.command("keywords")
@click.option("--cv", is_flag=True, help="Score all 5 folds (each by a model that never saw it), not just one.")
@click.option("--iclr", is_flag=True, help="Also score the shipped model on ICLR 2026 author keywords.")
@click.option("--iclr-data", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_ICLR,
              show_default=True)
@click.option("--json", "as_json", is_flag=True)
def eval_keywords(cv: bool, iclr: bool, iclr_data: Path, as_json: bool) -> None:
    """hit@5 (>= 1 exact author keyword in the top 5), precision@5 and recall@5."""
    from paperlens.enrich.models.keywords import default_model, evaluate

    report = {"seeds_held_out": held_out_evaluation(use_folds=5 if cv else 1)}
    if iclr:
        if not iclr_data.is_dir():
            raise click.ClickException(f"{iclr_data}: ICLR 2026 data not found (pass --iclr-data)")
        papers = iclr_papers(iclr_data)
        model = default_model()
        start = time.perf_counter()
        result = evaluate(lambda t, a: [x for x, _ in model.extract(t, a)], papers)
        result["papers_per_second"] = round(len(papers) / (time.perf_counter() - start), 1)
        report["iclr2026_out_of_domain"] = result
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for name, r in report.items():
        click.echo(f"{name}: papers {r['papers']}  hit@5 {r['hit_rate']:.3f}  precision@5 {r['precision']:.3f}  "
                   f"recall@5 {r['recall']:.3f}" + (f"  ({r['papers_per_second']} papers/s)"
                                                    if "papers_per_second" in r else ""))
