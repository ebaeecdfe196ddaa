"""Held-out accuracy of a taxonomy's classifier: stratified k-fold, each paper scored by a model trained
without it (the evaluation trains its own fold models)."""

from __future__ import annotations

import csv
import glob
import sys
from pathlib import Path

from paperlens.core.paths import PACKAGE_DIR
from paperlens.enrich.models.taxonomy import cross_validate, load_taxonomy, read_jsonl_records
from paperlens.eval import ICLR_2026, EvalError

ICLR_DIR = ICLR_2026
ICLR_REPORT = "iclr2026-primary-area"


class NoEvaluationData(EvalError):
    """A taxonomy with no bundled evaluation data and no --from file (a usage error)."""


def seed_records() -> tuple[list[dict], list[str]]:
    """The 651 papers of the bundled 002 digest, with the digest's topic labels."""
    from paperlens.sources import read_records

    path = next((PACKAGE_DIR / "sample").glob("002_*.txt"))
    records, labels = [], []
    for paper in read_records(path):
        if getattr(paper, "topic", None) and paper.topic.label:
            records.append({"title": paper.title, "abstract": paper.abstract, "keywords": paper.keywords})
            labels.append(paper.topic.label)
    return records, labels


def iclr_records(directory: Path = ICLR_DIR) -> tuple[list[dict], list[str]]:
    """ICLR 2026 papers and their primary areas; local evaluation only (the data has no licence)."""
    files = sorted(glob.glob(str(directory / "*.csv")))
    if not files:
        raise EvalError(f"{directory}: ICLR 2026 data not found (expected ../shared/data/iclr2026 "
                        f"beside the repository)")
    csv.field_size_limit(sys.maxsize)
    records, labels = [], []
    for path in files:
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("abstract") and row.get("primary_area"):
                    records.append({"title": row.get("title", ""), "abstract": row["abstract"],
                                    "keywords": row.get("keywords", "")})
                    labels.append(row["primary_area"])
    return records, labels


def evaluate_topics(taxonomy_name: str = "llm-2026", *, source: Path | None = None, iclr: bool = False,
                    iclr_only: bool = False, folds: int = 5, seed: int = 0,
                    embedder: str | None = None) -> dict[str, dict]:
    """Cross-validated reports by name: the taxonomy's (on `source`, or its bundled data) unless
    `iclr_only`, and the ICLR 2026 primary areas when `iclr` or `iclr_only`.

    Raises TaxonomyError for a bad `source` line or an unknown taxonomy, NoEvaluationData for a
    taxonomy with nothing to evaluate on, EvalError when the ICLR data is missing."""
    report: dict[str, dict] = {}
    if not iclr_only:
        if source:
            records = read_jsonl_records(source, need_label=True)
            labels = [r["_label"] for r in records]
        elif taxonomy_name == "llm-2026":
            records, labels = seed_records()
        else:
            load_taxonomy(taxonomy_name)  # a clear error for an unknown name
            raise NoEvaluationData(f"taxonomy {taxonomy_name!r} has no bundled evaluation data; pass --from")
        report[taxonomy_name] = cross_validate(records, labels, folds=folds, seed=seed, embedder=embedder)
    if iclr or iclr_only:
        records, labels = iclr_records()
        report[ICLR_REPORT] = cross_validate(records, labels, folds=folds, seed=seed, embedder=embedder)
    return report


def report_lines(title: str, result: dict) -> list[str]:
    """One cross-validation result as the lines `paperlens eval topics` prints."""
    lines = [f"{title}: n={result['n']}, {result['folds']}-fold CV (seed {result['seed']})",
             f"  accuracy {result['accuracy']:.3f}   macro-F1 {result['macro_f1']:.3f}"]
    width = max(len(r["label"]) for r in result["per_label"])
    lines.append(f"  {'label'.ljust(width)}  precision  recall     f1  support")
    for r in result["per_label"]:
        lines.append(f"  {r['label'].ljust(width)}  {r['precision']:9.3f}  {r['recall']:6.3f}  {r['f1']:5.3f}  "
                     f"{r['support']:7d}")
    return lines
