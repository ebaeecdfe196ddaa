"""profile, recommend, eval recommend: reader profiles and what they are recommended."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from paperlens.cli import eval_group, main
from paperlens.cli.core import print_report
from paperlens.recommend.profiles import ProfileError

err = Console(stderr=True)

DEFAULT_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "iclr2026"


def _progress():
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, disable=not sys.stderr.isatty(), transient=True)


def _settings(authors, include, exclude, categories, prompt, emails) -> dict:
    out = {"authors": list(authors), "include": list(include), "exclude": list(exclude),
           "categories": list(categories), "emails": list(emails)}
    if prompt is not None:
        out["prompt"] = prompt
    return {k: v for k, v in out.items() if v or k == "prompt"}


def _setting_options(func):
    for option in reversed([
        click.option("--author", "authors", multiple=True, help="Followed author (pinned up); repeat."),
        click.option("--include", multiple=True, help="Keyword or phrase that lifts a paper; repeat."),
        click.option("--exclude", multiple=True, help="Keyword or phrase that drops a paper; repeat."),
        click.option("--category", "categories", multiple=True, help="arXiv category the daily run fetches; repeat."),
        click.option("--prompt", help="What you look for, in your words: with --llm, `recommend` and `daily` ask the "
                                      "LLM to judge the top candidates against it (docs/daily.md)."),
        click.option("--email", "emails", multiple=True, help="Where `daily` sends the digest; repeat."),
    ]):
        func = option(func)
    return func


@main.group()
def profile() -> None:
    """Reader profiles: a library of papers and what to follow."""


@profile.command("add")
@click.argument("name")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_setting_options
@click.option("--replace", is_flag=True, help="Start the profile afresh (else its library and settings grow).")
@click.pass_obj
def profile_add(obj, name, files, authors, include, exclude, categories, prompt, emails, replace):
    """Make or extend profile NAME from library FILES (BibTeX, RIS, CSL-JSON, paperlens JSONL, ... or a text
    file of paper ids, one a line); their papers are ingested and become the profile's positives."""
    from paperlens.recommend.profiles import add_profile, update_settings

    settings = _settings(authors, include, exclude, categories, prompt, emails)
    try:
        if not files:
            if obj.store.profile_get(name) is None:
                raise click.UsageError("a new profile needs at least one library FILE")
            update_settings(obj.store, name, settings)
            click.echo(f"profile {name}: settings updated")
            return
        with _progress() as progress:
            task = progress.add_task("reading library", total=None)
            report = add_profile(obj.store, name, files, settings, replace=replace,
                                 on_record=lambda n: progress.update(task, advance=n),
                                 on_rejected=lambda r: click.echo(str(r), err=True))
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    if report.ingest.files or report.ingest.file_errors:
        print_report(report.ingest)
    for line in report.unknown:
        click.echo(f"{line}: not in the database (ingest or fetch it first)", err=True)
    counts = obj.store.profile_counts(name)
    click.echo(f"profile {name}: {counts['library']} library papers")
    if not report.ids:
        raise SystemExit(1)  # nothing of FILES was added


@profile.command("set")
@click.argument("name")
@_setting_options
@click.option("--remove", is_flag=True, help="Remove the given values instead of adding them.")
@click.pass_obj
def profile_set(obj, name, authors, include, exclude, categories, prompt, emails, remove):
    """Add (or --remove) followed authors, keywords, categories, emails, the prompt."""
    from paperlens.recommend.profiles import update_settings

    try:
        merged = update_settings(obj.store, name, _settings(authors, include, exclude, categories, prompt, emails),
                                 remove=remove)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(merged, ensure_ascii=False, indent=2))


@profile.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def profile_list(obj, as_json):
    """Every profile with its library size."""
    rows = [{"name": n, **obj.reader.profile_counts(n)} for n in obj.reader.profile_names()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo("no profiles (make one with `paperlens profile add NAME FILE`)")
    for row in rows if not as_json else ():
        click.echo(f"{row['name']}\t{row['library']} library, {row['liked']} liked, {row['disliked']} disliked, "
                   f"{row['sent_digests']} digests sent")


@profile.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def profile_show(obj, name, as_json):
    """A profile's settings, library (a sample) and recent digests."""
    from paperlens.recommend.profiles import describe

    try:
        info = describe(obj.reader, name)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    click.echo(f"profile {name} (created {info['created_at']})")
    counts = info["counts"]
    click.echo(f"  library: {counts['library']}  liked: {counts['liked']}  disliked: {counts['disliked']}  "
               f"digests sent: {counts['sent_digests']}")
    for key, value in sorted(info["settings"].items()):
        if value:
            click.echo(f"  {key}: {', '.join(value) if isinstance(value, list) else value}")
    for paper in info["library_sample"]:
        click.echo(f"  - {paper['id']}  {paper['title']}")


@profile.command("remove")
@click.argument("name")
@click.pass_obj
def profile_remove(obj, name):
    """Delete a profile (its papers stay in the database)."""
    if not obj.store.profile_remove(name):
        raise click.ClickException(f"no profile {name!r}")
    click.echo(f"removed profile {name}")


@profile.command("mark")
@click.argument("name")
@click.argument("paper_id")
@click.option("--dislike", is_flag=True, help="👎 instead of 👍.")
@click.option("--clear", is_flag=True, help="Forget the mark.")
@click.pass_obj
def profile_mark(obj, name, paper_id, dislike, clear):
    """Mark a paper 👍 (or --dislike 👎) for a profile."""
    from paperlens.recommend.profiles import mark

    try:
        click.echo(mark(obj.store, name, paper_id, -1 if dislike else 1, clear=clear))
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.argument("name")
@click.option("--since", help="Only papers dated on or after this day (2026-11-23).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--llm", is_flag=True, help="Have the LLM (PAPERLENS_LLM_* settings) judge the top candidates against "
                                        "the profile's relevance prompt (--prompt); skipped, and said, without one.")
@click.option("--judge-top", type=click.IntRange(1, 1000),
              help="With --llm: how many top candidates are judged (default 3 x --limit).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def recommend(obj, name, since, limit, llm, judge_top, as_json):
    """Rank the papers not in profile NAME's library, each with its reasons."""
    from paperlens.cli.core import _as_of
    from paperlens.recommend.profiles import recommend_judged
    from paperlens.recommend.relevance import RelevanceJudge

    if since:
        since = _as_of(since).isoformat()
    try:
        judge = RelevanceJudge(top=judge_top) if llm else None
        results, report = recommend_judged(obj.store if llm else obj.reader, name, judge, since=since, limit=limit)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    if llm and report.note():
        click.echo(report.note(), err=True)
    if llm and report.problem():
        click.echo(f"problem: {report.problem()}", err=True)
    if as_json:
        data = {"profile": name, "results": [r.as_dict() for r in results]}
        if llm:
            data["llm"] = report.as_dict()
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if not results:
        click.echo("nothing to recommend (no papers outside the library" + (f" since {since})" if since else ")"))
    for n, r in enumerate(results, 1):
        click.echo(f"{n:3d}. {r.score:6.2f}  {r.id}  {r.title}")
        for reason in r.reasons:
            click.echo(f"        - {reason}")


@eval_group.command("recommend")
@click.option("--data", type=click.Path(path_type=Path), default=DEFAULT_DATA, show_default=True,
              help="Folder of ICLR-style CSV files (primary_area labels), evaluation only.")
@click.option("--library-size", default=30, show_default=True)
@click.option("--k", default=20, show_default=True, help="Precision at k.")
@click.option("--libraries", default=5, show_default=True, help="Libraries drawn per area.")
@click.option("--seed", default=17, show_default=True)
@click.option("--embedder", help="Embedder for the similarity signal (static, minilm); default the configured one.")
@click.option("--json", "as_json", is_flag=True)
def eval_recommend(data, library_size, k, libraries, seed, embedder, as_json):
    """Precision@k of the library's own area, per area, for paperlens and two baselines in one run."""
    from paperlens.enrich.models.embed import get_embedder
    from paperlens.eval.recommend import METHODS, evaluate_recommend, load_collection

    if not data.exists():
        raise click.ClickException(f"{data}: not found (the ICLR 2026 set lives in ../shared/data/iclr2026)")
    files = sorted(data.glob("*.csv")) if data.is_dir() else [data]
    docs, areas = load_collection(files)
    if not docs:
        raise click.ClickException(f"{data}: no papers with a primary_area")
    model = get_embedder(embedder)
    with _progress() as progress:
        task = progress.add_task("embedding", total=None)
        vectors = model.encode([d.text for d in docs])
        total = len(set(areas)) * libraries
        task = progress.add_task("libraries", total=total)
        result = evaluate_recommend(docs, areas, embeddings=vectors, embedder=model.name,
                                    library_size=library_size, k=k, libraries_per_area=libraries, seed=seed,
                                    on_library=lambda: progress.update(task, advance=1))
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    click.echo(f"papers: {result.papers}  library: {library_size} papers of one area  "
               f"libraries per area: {libraries}  precision@{k}  embedder: {model.name}")
    click.echo(f"{'area':58s} {'papers':>6s} " + " ".join(f"{m:>14s}" for m in METHODS))
    for area in result.areas:
        click.echo(f"{area.area[:58]:58s} {area.papers:6d} "
                   + " ".join(f"{area.precision[m]:14.3f}" for m in METHODS))
    click.echo(f"{'mean over areas':58s} {'':6s} " + " ".join(f"{result.mean(m):14.3f}" for m in METHODS))
