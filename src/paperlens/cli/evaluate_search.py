"""eval search: known-item and topical search quality on a labelled collection (ICLR 2026 by default)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from paperlens.cli import eval_group
from paperlens.eval import EvalError
from paperlens.eval.search import DEFAULT_DATA, evaluate_search_on, report_lines


@eval_group.command("search")
@click.option("--data", type=click.Path(path_type=Path), default=DEFAULT_DATA, show_default=True,
              help="Folder of ICLR-style CSV files (or one file) to build the collection from.")
@click.option("--workdir", type=click.Path(path_type=Path),
              help="Keep the evaluation database here (reused on the next run).")
@click.option("--samples", default=300, show_default=True, help="Known-item queries per kind.")
@click.option("--keyword-queries", default=150, show_default=True)
@click.option("--modes", default="keyword,semantic,hybrid", show_default=True)
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="zh: cross-lingual search on the held-out 002 seed pairs (zh->en and en->zh) instead.")
@click.option("--json", "as_json", is_flag=True)
def eval_search(data, workdir, samples, keyword_queries, modes, lang, as_json):
    """Title -> MRR, abstract sentence -> recall@10, author keyword -> precision@10; with --lang zh,
    recall@10 and MRR of Chinese queries for English-only papers and back."""
    if lang == "zh":
        eval_crosslingual(workdir, as_json)
        return
    try:
        papers, results = evaluate_search_on(
            data, workdir, samples=samples, keyword_queries=keyword_queries,
            modes=tuple(m.strip() for m in modes.split(",") if m.strip()),
            progress=lambda message: click.echo(message, err=True))
    except EvalError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps({"papers": papers, "results": [r.as_dict() for r in results]}, indent=2))
        return
    for line in report_lines(papers, results):
        click.echo(line)


def eval_crosslingual(workdir: Path | None, as_json: bool) -> None:
    from paperlens.eval.search import evaluate_crosslingual

    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory()
        workdir = Path(tmp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    results = evaluate_crosslingual(workdir)
    if as_json:
        click.echo(json.dumps({"results": [r.as_dict() for r in results]}, indent=2))
    else:
        click.echo(f"{'direction':10s} {'route':17s} {'R@10':>6s} {'MRR':>6s} {'queries':>8s} {'papers':>7s}")
        for r in results:
            click.echo(f"{r.direction:10s} {r.route:17s} {r.recall10:6.3f} {r.mrr:6.3f} {r.queries:8d} {r.documents:7d}")
    if tmp is not None:
        tmp.cleanup()
