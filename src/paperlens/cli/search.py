"""search and similar: hybrid search from the command line."""

from __future__ import annotations

import json
import re

import click

from paperlens.cli import inert, main
from paperlens.enrich.views import display_titles
from paperlens.search.hybrid import HybridSearcher, SearchFilters


@main.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--offset", type=click.IntRange(0, 100000), default=0)
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "semantic"]), default="hybrid", show_default=True)
@click.option("--topic", help="Topic label (or its slug).")
@click.option("--year-from", type=click.IntRange(0, 9999))  # past SQLite's 64 bits: an OverflowError traceback
@click.option("--year-to", type=click.IntRange(0, 9999))
@click.option("--venue", help="Venue contains this text.")
@click.option("--category", help="arXiv category, e.g. cs.CL.")
@click.option("--author", help="Author name or slug.")
@click.option("--has-code/--no-code", default=None, help="Only papers with (or without) code.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def search(obj, query, limit, offset, mode, topic, year_from, year_to, venue, category, author, has_code, as_json):
    """What has been written about QUERY: keyword and semantic results fused."""
    filters = SearchFilters(topic=topic, year_from=year_from, year_to=year_to, venue=venue, category=category,
                            author=author, has_code=has_code)
    found = HybridSearcher(obj.reader).search_results(query, limit=limit, offset=offset, filters=filters,
                                                      mode=mode)
    hits = found.hits
    if as_json:
        click.echo(json.dumps({"query": query, "total": found.total, "suggestion": found.suggestion,
                               "results": [h.as_dict() for h in hits]}, ensure_ascii=False))
        return
    if found.suggestion:
        click.echo(f"did you mean: {inert(found.suggestion)}")
    if not hits:
        click.echo("no results")
    else:
        click.echo(f"{found.total} result{'' if found.total == 1 else 's'}")
    titles = display_titles(obj.reader, [hit.id for hit in hits if not hit.title])
    for n, hit in enumerate(hits, start=offset + 1):
        title = hit.title or titles.get(hit.id, hit.id)
        click.echo(inert(f"{n:3d}. {title}  [{hit.id}]  {hit.year or ''} {hit.topic or ''}".rstrip()))
        import html

        marks = {"<mark>": "\033[1m", "</mark>": "\033[0m"}
        snippet = "".join(marks.get(part) or inert(html.unescape(part)) for part in re.split(r"(</?mark>)", hit.snippet))
        click.echo("     " + snippet[:300])


@main.command()
@click.argument("paper_id")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def similar(obj, paper_id, limit, as_json):
    """Papers similar to PAPER_ID, with why."""
    if obj.reader.resolve_id(paper_id) is None:
        raise click.ClickException(f"no paper with id {paper_id!r}")
    found = HybridSearcher(obj.reader).similar(obj.reader.resolve_id(paper_id), k=limit)
    if as_json:
        click.echo(json.dumps({"id": paper_id, "similar": found}, ensure_ascii=False))
        return
    titles = display_titles(obj.reader, [item["id"] for item in found if not item["title"]])
    for item in found:
        title = item["title"] or titles.get(item["id"], item["id"])
        click.echo(f"{item['score']:.3f}  {inert(title)}  [{inert(item['id'])}]\n       {inert(item['why'])}")
