"""eval topics: held-out accuracy of a taxonomy's classifier (the eval trains its own fold models)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from paperlens.cli import eval_group
from paperlens.enrich.models.taxonomy import TaxonomyError
from paperlens.eval import EvalError
from paperlens.eval.topics import NoEvaluationData, evaluate_topics, report_lines


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
    try:
        report = evaluate_topics(taxonomy_name, source=source, iclr=iclr, iclr_only=iclr_only, folds=folds,
                                 seed=seed, embedder=None if embedder == "none" else embedder)
    except NoEvaluationData as exc:
        raise click.UsageError(str(exc)) from exc
    except (TaxonomyError, EvalError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for name, result in report.items():
        for line in report_lines(name, result):
            click.echo(line)
