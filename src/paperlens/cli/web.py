"""serve: the read-only web digest."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

import click

from paperlens.cli import main
from paperlens.web.guard import (
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_HEADER,
    DEFAULT_TIME_LIMIT,
    http_protocol,
    write_token_from_env,
)


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
@click.option("--max-header", type=click.IntRange(0), default=DEFAULT_MAX_HEADER, show_default=True,
              envvar="PAPERLENS_MAX_HEADER_BYTES",
              help="Largest request line plus headers in bytes (431 and the connection closed beyond; "
                   "env PAPERLENS_MAX_HEADER_BYTES; 0: uvicorn's own behaviour).")
@click.pass_obj
def serve(obj, host, port, db_override, write_token_env, max_body, request_timeout, max_header):
    """Serve the digest, JSON API (/docs) and Atom feeds over HTTP (read-only unless a write token is set)."""
    import uvicorn

    from paperlens.web.app import create_app
    from paperlens.web.middleware import CacheFront

    db = db_override or obj.db
    if not Path(db).exists():
        raise click.ClickException(f"{db}: no such database (run `paperlens ingest` first)")
    token = write_token_from_env(write_token_env)
    if write_token_env and token is None:
        raise click.UsageError(f"--write-token-env {write_token_env}: that variable is not set (or blank)")
    sock = _bind(host, port)  # before "serving": a busy port is one sentence, not a traceback after it
    port = sock.getsockname()[1]
    app = CacheFront(create_app(db, write_token=token, max_body=max_body, request_timeout=request_timeout))
    click.echo(f"serving {db} at http://{host}:{port} ({'writes need the token' if token else 'read-only'})",
               err=True)
    http, limits = http_protocol(max_header)
    # Requests run in a thread pool: BLAS threads inside each (the vector search's matrix product) only
    # oversubscribe the cores, so BLAS gets PAPERLENS_BLAS_THREADS (default 1) for the whole server.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=blas_threads(), user_api="blas"):
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", http=http, **limits)
        uvicorn.Server(config).run(sockets=[sock])


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound now, so that a busy port or an unknown host fails before the server starts."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise click.ClickException(f"--host {host}: cannot resolve it ({exc.strerror or exc})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        hint = " (another server is using it; pass --port)" if exc.errno == errno.EADDRINUSE else ""
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror or exc}{hint}") from None
    sock.set_inheritable(True)
    return sock


def blas_threads() -> int:
    raw = os.environ.get("PAPERLENS_BLAS_THREADS", "1").strip()
    try:
        return max(1, int(raw))
    except ValueError:
        raise click.UsageError(f"PAPERLENS_BLAS_THREADS={raw!r}: give a whole number of threads") from None
