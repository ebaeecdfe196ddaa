"""taxonomy list / train / discover, and classify: topic taxonomies from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click

from paperlens.cli import main
from paperlens.enrich.models.taxonomy import (
    TaxonomyError,
    active_taxonomy_name,
    list_taxonomies,
    load_taxonomy,
    read_jsonl_records,
    train_taxonomy,
    user_dir,
)

DIR_OPTION = click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
                          help="Taxonomy directory (default $PAPERLENS_HOME/taxonomies, "
                               "~/.local/share/paperlens/taxonomies).")


def _extra(directory: Path | None) -> list[Path]:
    return [directory] if directory else []


@main.group()
def taxonomy():
    """Topic taxonomies: list them, train one on labelled papers, discover sub-topics."""


@taxonomy.command("list")
@DIR_OPTION
@click.option("--json", "as_json", is_flag=True)
def list_command(directory, as_json):
    """The taxonomies available (built-in and trained), with their labels."""
    try:
        found = list_taxonomies(_extra(directory))
    except TaxonomyError as exc:
        raise click.ClickException(str(exc)) from exc
    active = active_taxonomy_name()
    if as_json:
        click.echo(json.dumps([{**t.to_dict(), "trained": t.trained, "active": t.name == active,
                                "directory": str(t.directory)} for t in found], ensure_ascii=False, indent=2))
        return
    for t in found:
        mark = "*" if t.name == active else " "
        state = "trained" if t.trained else "untrained"
        click.echo(f"{mark} {t.name}\t{len(t.labels)} labels\t{state}\t{t.directory}")
        for label in t.labels:
            click.echo(f"    {label.zh}\t{label.en}")


@taxonomy.command("train")
@click.argument("name")
@click.option("--from", "source", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL: abstract, optional title/keywords, and label (or topic.label) per line.")
@DIR_OPTION
@click.option("--embedder", default="none", show_default=True,
              help="Add embedding features from this embedder (static, minilm), or none: tf-idf blocks only.")
@click.option("--description", default="")
def train_command(name, source, directory, embedder, description):
    """Train taxonomy NAME on labelled papers (any label set) and save it."""
    target = directory or user_dir()
    try:
        records = read_jsonl_records(source, need_label=True)
        labels = [r["_label"] for r in records]
        try:
            base = load_taxonomy(name, _extra(directory))
        except TaxonomyError:
            base = None
        trained = train_taxonomy(name, records, labels, target, embedder=None if embedder == "none" else embedder,
                                 description=description, base=base)
    except TaxonomyError as exc:
        raise click.ClickException(str(exc)) from exc
    counts = {label: labels.count(label) for label in trained.label_ids}
    click.echo(f"trained {name} on {len(records)} papers, {len(counts)} labels -> {trained.directory}")
    for label, n in counts.items():
        click.echo(f"  {label}\t{n}")


@taxonomy.command("discover")
@click.option("--k", "k", type=int, required=True, help="Number of clusters.")
@click.option("--taxonomy", "taxonomy_name", help="Taxonomy whose label --topic names (default: active).")
@click.option("--topic", help="Cluster the papers with this topic label (default: papers with no topic).")
@click.option("--all", "all_papers", is_flag=True, help="Cluster every paper in the database.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@DIR_OPTION
@click.pass_obj
def discover_command(obj, k, taxonomy_name, topic, all_papers, seed, as_json, directory):
    """Propose sub-topics: k-means over paper embeddings, clusters named by distinctive terms."""
    from paperlens.enrich.subtopics import discover_in_store

    if topic and all_papers:
        raise click.UsageError("use --topic or --all, not both")
    try:
        found = discover_in_store(obj.store, k, topic=topic, taxonomy_name=taxonomy_name, all_papers=all_papers,
                                  seed=seed, extra=_extra(directory))
    except TaxonomyError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{found.papers} papers, {k} clusters ({found.embedder})")
    for c in found.clusters:
        click.echo(f"{c.count:6d}  {c.name}")


@main.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Output JSONL (default stdout).")
@click.option("--taxonomy", "taxonomy_name", help="Taxonomy (default: $PAPERLENS_TAXONOMY or llm-2026).")
@DIR_OPTION
def classify(source, output, taxonomy_name, directory):
    """Add "topic": {"label", "score"} to each line of a JSONL file (lines need an abstract)."""
    try:
        chosen = load_taxonomy(taxonomy_name, _extra(directory))
        records = read_jsonl_records(source)
        predictions = chosen.classify(records)
    except TaxonomyError as exc:
        raise click.ClickException(str(exc)) from exc
    lines = []
    for record, (label, score) in zip(records, predictions, strict=True):
        record["topic"] = {"label": label, "score": round(score, 4), "taxonomy": chosen.name,
                           "area": chosen.area_label}
        lines.append(json.dumps(record, ensure_ascii=False))
    text = "\n".join(lines) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"classified {len(records)} papers with {chosen.name} -> {output}", err=True)
    else:
        click.echo(text, nl=False)
