"""enrich: run enrichment steps over the database."""

from __future__ import annotations

import click
from rich.console import Console

from paperlens.cli import main
from paperlens.cli.progress import progress
from paperlens.enrich.registry import load_steps
from paperlens.enrich.runner import run_step


@main.command()
@click.option("--steps", help="Comma-separated steps (default: every local step). See --list.")
@click.option("--limit", type=int, help="At most N papers per step.")
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--retry-failed/--skip-failed", default=False, show_default=True,
              help="Run again on papers a step failed on before.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--lang", help="Languages for summary steps, e.g. zh,en.")
@click.option("--list", "list_steps", is_flag=True, help="List the steps and exit.")
@click.pass_obj
def enrich(obj, steps, limit, batch_size, retry_failed, engine, lang, list_steps):
    """Add topics, keywords, summaries and embeddings; skips work already done."""
    registry = load_steps()
    if list_steps:
        click.echo("step\tversion\truns")
        for name, cls in sorted(registry.items(), key=lambda kv: kv[1].order):
            click.echo(f"{name}\t{cls.version}\t{'by default' if cls.default else 'opt-in'}")
        return
    if steps:
        names = [s.strip() for s in steps.split(",") if s.strip()]
        unknown = [n for n in names if n not in registry]
        if unknown:
            raise click.UsageError(f"unknown step(s): {', '.join(unknown)}; known: {', '.join(registry)}")
    else:
        names = [n for n, cls in sorted(registry.items(), key=lambda kv: kv[1].order) if cls.default]
    options = {"lang": lang}
    if engine == "ray":
        from paperlens.enrich.ray_engine import run_steps_ray  # Ray is an optional extra

        try:
            reports = run_steps_ray(obj.db, names, limit=limit, batch_size=batch_size, retry_failed=retry_failed,
                                    options=options)
        except ValueError as exc:  # step configuration (steps fail papers, not the run, for anything else)
            raise click.UsageError(str(exc)) from None
    else:
        reports = []
        console = Console(stderr=True)
        with progress(console, prefix="enrich ") as bars:
            for name in names:
                try:
                    step = registry[name].create(**options)
                except ValueError as exc:  # configuration errors: no API key, unknown language, ...
                    raise click.UsageError(f"{name}: {exc}") from None
                task = bars.add_task(name, total=None)

                def update(advance, total, task=task):
                    bars.update(task, total=total, advance=advance)

                reports.append(run_step(obj.store, step, limit=limit, batch_size=batch_size,
                                        retry_failed=retry_failed, on_progress=update))
    failed = 0
    for report in reports:
        click.echo(f"{report.step}: done {report.done}, failed {report.failed}, skipped {report.skipped}")
        for error in report.errors[:5]:
            click.echo(f"  failed {error}", err=True)
        failed += report.failed
    if failed and not any(r.done for r in reports):
        raise SystemExit(1)
