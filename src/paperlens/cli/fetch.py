"""fetch: pull papers from an online source and ingest them (the raw responses are kept)."""

from __future__ import annotations

from pathlib import Path

import click

from paperlens.cli import main
from paperlens.ingest.pipeline import ingest_paths
from paperlens.sources.arxiv_atom import ARXIV_API, FetchError, fetch_arxiv
from paperlens.sources.arxiv_rss import ARXIV_LISTING, fetch_listing

# What `--new` keeps of a listing feed: papers new to the category (submitted to it, or cross-listed).
NEW_ANNOUNCEMENTS = ("new", "cross")


@main.group()
def fetch() -> None:
    """Fetch papers from an online source and ingest them."""


@fetch.command("arxiv")
@click.argument("query", required=False)
@click.option("--category", "categories", multiple=True, help="arXiv category (cs.CL); repeat for several.")
@click.option("--new", "new", is_flag=True,
              help="Today's announcements of the categories from the listing feed (rss.arxiv.org), not a search.")
@click.option("--replaced", is_flag=True, help="With --new: keep replaced (revised) papers too.")
@click.option("--max", "max_results", default=50, show_default=True, type=click.IntRange(1, 30000),
              help="Most results to fetch.")
@click.option("--base-url", default=ARXIV_API, show_default=True, help="arXiv API endpoint (a mirror, or a replay).")
@click.option("--feed-url", default=ARXIV_LISTING, show_default=True,
              help="Listing feed base for --new (the categories are appended: BASE/cs.CL+cs.AI).")
@click.option("--save-dir", type=click.Path(path_type=Path),
              help="Where the raw responses are kept; default: 'fetched/' beside the database.")
@click.option("--delay", default=3.0, show_default=True, help="Seconds between pages (arXiv asks for 3).")
@click.pass_obj
def fetch_arxiv_command(obj, query, categories, new, replaced, max_results, base_url, feed_url, save_dir, delay):
    """Search arXiv (e.g. 'cat:cs.CL AND abs:retrieval'), or with --new read the categories' listing feed,
    and ingest the results."""
    save_dir = save_dir or Path(obj.db).resolve().parent / "fetched"
    keep = None
    try:
        if new:
            if query:
                raise click.UsageError("--new reads the listing feed of --category; it takes no QUERY")
            paths = [fetch_listing(list(categories), base_url=feed_url, save_dir=save_dir)]
            kept = NEW_ANNOUNCEMENTS + (("replace", "replace-cross") if replaced else ())
            # A feed without announce types (not rss.arxiv.org) keeps everything.
            keep = lambda paper: paper.extra.get("announce_type", "new") in kept  # noqa: E731
            fmt = "arxiv-rss"
        else:
            if categories:
                cats = " OR ".join(f"cat:{c}" for c in categories)
                cats = f"({cats})" if len(categories) > 1 else cats
                query = f"{cats} AND ({query})" if query else cats
            if not query:
                raise click.UsageError("give a QUERY, --category, or --category with --new")
            paths = fetch_arxiv(query, max_results, base_url=base_url, save_dir=save_dir, delay=delay)
            fmt = "arxiv-atom"
    except FetchError as exc:
        raise click.ClickException(str(exc)) from exc
    report = ingest_paths(obj.store, paths, fmt=fmt, keep=keep, check_format=False,
                          on_rejected=lambda r: click.echo(str(r), err=True))
    for _path, problem in report.file_errors:
        click.echo(problem, err=True)
    click.echo(f"fetched {len(paths)} {'feed' if new else 'page(s)'} into {save_dir}")
    if report.skipped:
        click.echo(f"skipped {report.skipped} replaced paper(s) (--replaced keeps them)")
    click.echo(f"new: {report.new}  merged: {report.merged}  unchanged: {report.unchanged}  "
               f"rejected: {report.rejected}")
    if report.valid == 0:
        if new and not report.rejected and not report.file_errors:
            click.echo(f"{paths[0]}: no papers found (the feed announces none today)", err=True)
        raise SystemExit(1)
