"""serve: the read-only web digest."""

from __future__ import annotations

from pathlib import Path

import click

from ..web.guard import DEFAULT_MAX_BODY, DEFAULT_TIME_LIMIT, write_token_from_env
from . import main


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--db", "db_override", help="Database to serve (default: the global --db).")
@click.option("--write-token-env", metavar="NAME",
              help="Turn on write endpoints (POST /api/ingest), guarded by the bearer token in environment "
                   "variable NAME. Default: PAPERLENS_WRITE_TOKEN if set, else the server is read-only.")
@click.option("--max-body", type=click.IntRange(0), default=DEFAULT_MAX_BODY, show_default=True,
              help="Largest request body in bytes (413 beyond).")
@click.option("--request-timeout", type=click.FloatRange(0), default=DEFAULT_TIME_LIMIT, show_default=True,
              help="Seconds a request may take before it is cut off (0: no limit).")
@click.pass_obj
def serve(obj, host, port, db_override, write_token_env, max_body, request_timeout):
    """Serve the digest, JSON API (/docs) and Atom feeds over HTTP (read-only unless a write token is set)."""
    import uvicorn

    from ..web.app import create_app

    db = db_override or obj.db
    if not Path(db).exists():
        raise click.ClickException(f"{db}: no such database (run `paperlens ingest` first)")
    token = write_token_from_env(write_token_env)
    if write_token_env and token is None:
        raise click.UsageError(f"--write-token-env {write_token_env}: that variable is not set (or blank)")
    click.echo(f"serving {db} at http://{host}:{port} ({'writes need the token' if token else 'read-only'})",
               err=True)
    app = create_app(db, write_token=token, max_body=max_body, request_timeout=request_timeout)
    uvicorn.run(app, host=host, port=port, log_level="warning")
