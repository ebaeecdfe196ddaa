"""eval keywords: keyword tags against author keywords on held-out seed papers (and ICLR 2026 out of domain)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from paperlens.cli import eval_group
from paperlens.eval import EvalError
from paperlens.eval.keywords import DEFAULT_ICLR, evaluate_keywords, report_line


@eval_group.command("keywords")
@click.option("--cv", is_flag=True, help="Score all 5 folds (each by a model that never saw it), not just one.")
@click.option("--iclr", is_flag=True, help="Also score the shipped model on ICLR 2026 author keywords.")
@click.option("--iclr-data", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_ICLR,
              show_default=True)
@click.option("--json", "as_json", is_flag=True)
def eval_keywords(cv: bool, iclr: bool, iclr_data: Path, as_json: bool) -> None:
    """hit@5 (>= 1 exact author keyword in the top 5), precision@5 and recall@5."""
    try:
        report = evaluate_keywords(cv=cv, iclr_data=iclr_data if iclr else None)
    except EvalError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for name, r in report.items():
        click.echo(report_line(name, r))
