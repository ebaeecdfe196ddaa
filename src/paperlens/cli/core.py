"""ingest, export, stats, show."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click
from rich.console import Console

from paperlens.cli import inert, main
from paperlens.cli.progress import progress
from paperlens.core.merge import merge_note_lines
from paperlens.export import WRITERS
from paperlens.ingest.pipeline import ingest_paths
from paperlens.sources import SOURCES

err = Console(stderr=True)


def _as_of(value: str | None) -> date:
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-23") from exc


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", default="auto", type=click.Choice(["auto", *SOURCES]), show_default=True)
@click.option("--as-of", help="Date that gives relative dates ('Feb 3') their year; default today.")
@click.option("--strict", is_flag=True, help="Store nothing from a file that has any bad record.")
@click.option("--batch-size", default=2000, show_default=True, help="Papers per transaction.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_obj
def ingest(obj, paths, fmt, as_of, strict, batch_size, quiet):
    """Read papers from files (format detected) and store them, merging duplicates."""
    as_of_date = _as_of(as_of)
    with progress(err, quiet) as bars:
        task = bars.add_task("ingesting", total=None)
        report = ingest_paths(obj.store, paths, fmt=fmt, as_of=as_of_date, strict=strict, batch_size=batch_size,
                              on_record=lambda n: bars.update(task, advance=n),
                              on_rejected=lambda r: click.echo(str(r), err=True))
    print_report(report)
    if report.valid == 0:
        raise SystemExit(1)
    suspects = obj.store.suspect_count()
    if suspects:
        click.echo(f"{suspects} paper(s) merged wrongly by an older version wait for their records to be read "
                   "again (see `paperlens show ID`; docs/sources.md, Merging)", err=True)
    if report.strict_failed:
        raise SystemExit(1)


def print_report(report) -> None:
    """Per file the format that read it (or why none could), then the totals."""
    for _path, problem in report.file_errors:
        click.echo(problem, err=True)
    for done in report.files:
        if done.empty_message:
            click.echo(done.empty_message, err=True)
        else:
            click.echo(f"{done.path}: {done.valid} papers, {done.rejected} rejected ({done.how})")
    click.echo(f"new: {report.new}  merged: {report.merged}  unchanged: {report.unchanged}  "
               f"rejected: {report.rejected}")


@main.command()
@click.option("--format", "fmt", default="jsonl", type=click.Choice([*WRITERS, "site"]), show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File (or directory for site); stdout if omitted.")
@click.pass_obj
def export(obj, fmt, output):
    """Write every paper as JSONL, BibTeX or Markdown (or a static site)."""
    if fmt == "site":
        from paperlens.web.site import export_site  # the static site lives with the web layer

        if output is None:
            raise click.UsageError("--format site needs -o DIR")
        if output.exists() and not output.is_dir():
            raise click.UsageError(f"{output} is a file; --format site writes a folder of pages: give -o DIR")
        try:
            n = export_site(obj.reader, output, on_warning=lambda message: click.echo(message, err=True))
        except OSError as exc:
            raise click.ClickException(f"{exc.filename or output}: cannot write the site ({exc.strerror or exc})") \
                from None
        click.echo(f"wrote {n} papers to {output}", err=True)
        return
    from paperlens.enrich.views import export_papers

    writer = WRITERS[fmt]
    if output:
        papers = export_papers(obj.reader)  # a missing --db is reported before the output file is made
        try:
            handle = open(output, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise click.ClickException(f"{output}: cannot write ({exc.strerror or exc})") from None
        with handle:
            n = writer(papers, handle)
        click.echo(f"wrote {n} papers to {output}", err=True)
    else:
        writer(export_papers(obj.reader), sys.stdout)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def stats(obj, as_json):
    """Papers per source, topic and year; enrichment progress."""
    from paperlens.enrich.views import library_stats

    data = library_stats(obj.reader)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"papers: {data['papers']}")
    origin = data["topic_origin"]
    for section in ("by_source", "by_topic", "by_year", "enrichments"):
        if not data.get(section):
            continue
        if section == "by_topic":
            click.echo(f"\nby topic ({origin['given']} given by the sources, {origin['predicted']} predicted by "
                       f"the topic step, {origin['none']} without a topic; as the web counts them):")
        else:
            click.echo(f"\n{section.replace('_', ' ')}:")
        for key, value in data[section].items():
            if section == "by_topic":
                parts = [f"{n} {what}" for n, what in ((data["by_topic_given"].get(key, 0), "given"),
                                                        (data["by_topic_predicted"].get(key, 0), "predicted")) if n]
                click.echo(f"  {key}: {value} ({', '.join(parts)})")
            else:
                click.echo(f"  {key}: {value}")
    shown = ("papers", "by_source", "by_topic", "by_year", "enrichments", "by_topic_given", "by_topic_predicted",
             "topic_origin")
    for key, value in data.items():
        if key not in shown:
            click.echo(f"\n{key}: {json.dumps(value, ensure_ascii=False)}")


@main.command()
@click.argument("paper_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show(obj, paper_id, as_json):
    """Everything known about one paper (id from the export, or any alias)."""
    from paperlens.enrich.views import resolved_paper

    paper = resolved_paper(obj.reader, paper_id)
    if paper is None:
        raise click.ClickException(f"no paper with id {paper_id!r}")
    prov = obj.reader.provenance(paper.id)
    notes = obj.reader.merge_notes(paper.id)
    if as_json:
        click.echo(json.dumps({**paper.export_dict(), "merge_notes": notes}, ensure_ascii=False, indent=2))
        return
    import io

    from paperlens.export.markdown import write_markdown

    text = io.StringIO()
    write_markdown([paper], text)
    click.echo(inert(text.getvalue(), lines=True), nl=False)  # the paper's text, never terminal escapes
    if prov:
        click.echo("provenance:")
        for field, origin in sorted(prov.items()):
            if isinstance(origin, str):
                click.echo(inert(f"  {field}: {origin}"))
    for note in merge_note_lines(notes):
        click.echo(inert(note, lines=True))
    enrichments = obj.reader.enrichments_for(paper.id)
    if enrichments:
        click.echo("enrichments:")
        for step, item in sorted(enrichments.items()):
            line = f"  {step}: {item['status']}, version {item['version']}, model {item['model'] or '-'}, " \
                   f"updated {item['updated_at']}"
            made = (item.get("output") or {}).get("provenance")
            if made:  # LLM steps say which prompt made the text, and when
                line += f", prompt {made.get('prompt_version')}, generated {made.get('generated_at')}"
            if item.get("error"):
                line += f"\n    error: {inert(str(item['error']))}"
            click.echo(inert(line, lines=True))
