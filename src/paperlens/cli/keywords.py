"""keywords: predict keyword tags for papers in a JSONL file."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path

import click

from paperlens.cli import main


@main.command("keywords")
@click.argument("input_path", metavar="IN.jsonl", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True))
@click.option("-o", "--output", "output_path", type=click.Path(path_type=Path, dir_okay=False), default="-",
              show_default=True, help="Output JSONL (- for stdout).")
@click.option("-k", default=5, show_default=True, help="Keywords per paper.")
def keywords_command(input_path: Path, output_path: Path, k: int) -> None:
    """Add "keywords_pred" to each line of IN.jsonl (lines need "abstract", optionally "title")."""
    from paperlens.enrich.keyword_lines import tag_lines
    from paperlens.enrich.models.keywords import default_model
    from paperlens.enrich.models.lines import abstract_lines, numbered_text_lines

    from_stdin = str(input_path) == "-"
    if not from_stdin and not input_path.is_file():
        raise click.ClickException(f"{input_path}: no such file")
    model = default_model()
    out = sys.stdout if str(output_path) == "-" else output_path.open("w", encoding="utf-8")
    written = bad = 0
    try:
        with click.open_file("-", encoding="utf-8", errors="surrogateescape") if from_stdin else nullcontext() as stdin:
            items = numbered_text_lines(stdin) if from_stdin else abstract_lines(input_path)
            for number, problem, record in tag_lines(items, k, model):
                if problem:
                    bad += 1
                    click.echo(f"{input_path}:{number}: {problem}", err=True)
                    continue
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += 1
    finally:
        if out is not sys.stdout:
            out.close()
    click.echo(f"keywords: {written} written, {bad} bad", err=True)
    if written == 0:
        raise SystemExit(1)
