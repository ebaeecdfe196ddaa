"""eval roles: sentence-role accuracy on a CSAbstruct-format file."""

from __future__ import annotations

import json

import click

from paperlens.cli import eval_group
from paperlens.eval import EvalError
from paperlens.eval.roles import evaluate_roles, report_lines


@eval_group.command("roles")
@click.option("--split", "split", default="dev", show_default=True,
              help="dev or train (from ../shared/data/csabstruct beside the repo), or a path to a "
                   "CSAbstruct-format .jsonl file.")
@click.option("--limit", type=int, help="Only the first N abstracts.")
@click.option("--json", "as_json", is_flag=True)
def eval_roles(split: str, limit: int | None, as_json: bool) -> None:
    """Sentence-role accuracy, macro-F1, per-label F1 and confusion matrix."""
    try:
        result = evaluate_roles(split, limit=limit)
    except EvalError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for line in report_lines(result):
        click.echo(line)
