"""serve: the read-only web digest."""

from __future__ import annotations

from pathlib import Path

import click

from . import main


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--db", "db_override", help="Database to serve (default: the global --db).")
@click.pass_obj
def serve(obj, host, port, db_override):
    """Serve the digest, JSON API (/docs) and Atom feeds over HTTP (read-only)."""
    import uvicorn

    from ..web.app import create_app

    db = db_override or obj.db
    if not Path(db).exists():
        raise click.ClickException(f"{db}: no such database (run `paperlens ingest` first)")
    click.echo(f"serving {db} at http://{host}:{port}", err=True)
    uvicorn.run(create_app(db), host=host, port=port, log_level="warning")
