"""fetch: pull papers from an online source and ingest them (the raw responses are kept)."""

from __future__ import annotations

from pathlib import Path

import click

from ..ingest import ingest_paths
from ..sources.arxiv_atom import ARXIV_API, FetchError, fetch_arxiv
from . import main


@main.group()
def fetch() -> None:
    """Fetch papers from an online source and ingest them."""


@fetch.command("arxiv")
@click.argument("query")
@click.option("--max", "max_results", default=50, show_default=True, type=click.IntRange(1, 30000),
              help="Most results to fetch.")
@click.option("--base-url", default=ARXIV_API, show_default=True, help="arXiv API endpoint (a mirror, or a replay).")
@click.option("--save-dir", type=click.Path(path_type=Path),
              help="Where the raw Atom responses are kept; default: 'fetched/' beside the database.")
@click.option("--delay", default=3.0, show_default=True, help="Seconds between pages (arXiv asks for 3).")
@click.pass_obj
def fetch_arxiv_command(obj, query, max_results, base_url, save_dir, delay):
    """Search arXiv (e.g. 'cat:cs.CL AND abs:retrieval') and ingest the results."""
    save_dir = save_dir or Path(obj.db).resolve().parent / "fetched"
    try:
        paths = fetch_arxiv(query, max_results, base_url=base_url, save_dir=save_dir, delay=delay)
    except FetchError as exc:
        raise click.ClickException(str(exc)) from exc
    report = ingest_paths(obj.store, paths, fmt="arxiv-atom",
                          on_rejected=lambda r: click.echo(str(r), err=True))
    for _path, problem in report.file_errors:
        click.echo(problem, err=True)
    click.echo(f"fetched {len(paths)} page(s) into {save_dir}")
    click.echo(f"new: {report.new}  merged: {report.merged}  unchanged: {report.unchanged}  "
               f"rejected: {report.rejected}")
    if report.valid == 0:
        raise SystemExit(1)
