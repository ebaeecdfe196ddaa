"""eval topics: held-out accuracy of a taxonomy's classifier (the eval trains its own fold models)."""

from __future__ import annotations

import csv
import glob
import json
import sys
from pathlib import Path

import click

from paperlens.cli import eval_group
from paperlens.enrich.models.taxonomy import TaxonomyError, cross_validate, load_taxonomy, read_jsonl_records

ROOT = Path(__file__).resolve().parents[3]
ICLR_DIR = ROOT.parent / "shared" / "data" / "iclr2026"


def seed_records() -> tuple[list[dict], list[str]]:
    """The 651 papers of the bundled 002 digest, with the digest's topic labels."""
    from paperlens.sources import read_records

    sample = Path(__file__).resolve().parents[1] / "sample"
    path = next(sample.glob("002_*.txt"))
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
        raise click.ClickException(f"{directory}: ICLR 2026 data not found (expected ../shared/data/iclr2026 "
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


def _print_report(title: str, result: dict) -> None:
    click.echo(f"{title}: n={result['n']}, {result['folds']}-fold CV (seed {result['seed']})")
    click.echo(f"  accuracy {result['accuracy']:.3f}   macro-F1 {result['macro_f1']:.3f}")
    width = max(len(r["label"]) for r in result["per_label"])
    click.echo(f"  {'label'.ljust(width)}  precision  recall     f1  support")
    for r in result["per_label"]:
        click.echo(f"  {r['label'].ljust(width)}  {r['precision']:9.3f}  {r['recall']:6.3f}  {r['f1']:5.3f}  "
                   f"{r['support']:7d}")


@eval_group.command("topics")
@click.option("--taxonomy", "taxonomy_name", default="llm-2026", show_default=True)
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path),
              help="Labelled JSONL to evaluate on (default for llm-2026: the bundled seed papers).")
@click.option("--iclr", is_flag=True, help="Also the 12 ICLR 2026 primary areas (../shared/data/iclr2026).")
@click.option("--iclr-only", is_flag=True, help="Only the ICLR 2026 primary areas.")
@click.option("--folds", type=int, default=5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--embedder", default="none", show_default=True,
              help="Add embedding features from this embedder (static, minilm), or none: tf-idf blocks only.")
@click.option("--json", "as_json", is_flag=True)
def eval_topics(taxonomy_name, source, iclr, iclr_only, folds, seed, embedder, as_json):
    """Stratified k-fold accuracy and macro-F1: every paper is scored by a model trained without it."""
    embedder = None if embedder == "none" else embedder
    report: dict = {}
    try:
        if iclr_only:
            pass
        elif source:
            records = read_jsonl_records(source, need_label=True)
            labels = [r["_label"] for r in records]
        elif taxonomy_name == "llm-2026":
            records, labels = seed_records()
        else:
            load_taxonomy(taxonomy_name)  # a clear error for an unknown name
            raise click.UsageError(f"taxonomy {taxonomy_name!r} has no bundled evaluation data; pass --from")
        if not iclr_only:
            report[taxonomy_name] = cross_validate(records, labels, folds=folds, seed=seed, embedder=embedder)
        if iclr or iclr_only:
            records, labels = iclr_records()
            report["iclr2026-primary-area"] = cross_validate(records, labels, folds=folds, seed=seed,
                                                             embedder=embedder)
    except TaxonomyError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for name, result in report.items():
        _print_report(name, result)
