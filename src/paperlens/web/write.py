"""Write endpoints of the web app, all behind the bearer token (see guard.py); off by default.

POST /api/ingest: the request body is one source file (any format `paperlens ingest` reads, compressed
or not); the papers are read, merged and stored exactly as the CLI does, and rejections come back with
the uploaded file's name and line."""

from __future__ import annotations

import re
import sqlite3
import tempfile
import threading
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from paperlens.sources import SOURCES
from paperlens.store import Store, db_error_message
from paperlens.web.api import ApiError, IngestReport
from paperlens.web.guard import check_write_token


def ingest_paths(*args, **kwargs):
    """paperlens.ingest.pipeline.ingest_paths, imported on the first upload (not at every server's start)."""
    from paperlens.ingest.pipeline import ingest_paths as ingest

    return ingest(*args, **kwargs)


_SUFFIXES = (".jsonl", ".json", ".csv", ".xml", ".atom", ".bib", ".txt", ".gz", ".bz2", ".xz")
MAX_REJECTIONS = 100


def upload_name(name: str | None) -> str:
    """A harmless base name for the temporary copy: no directories, only a known suffix survives."""
    base = re.sub(r"[^\w.-]+", "-", Path((name or "upload").replace("\\", "/")).name).strip(".-")[:80] or "upload"
    suffixes = "".join(s for s in Path(base).suffixes[-2:] if s.lower() in _SUFFIXES)
    stem = base.split(".", 1)[0] or "upload"
    return stem + suffixes


def add_write_routes(app: FastAPI, db_path: str, token: str | None) -> None:
    lock = threading.Lock()  # one writer at a time from this server (SQLite allows one anyway)
    state: dict[str, Store] = {}

    def writable() -> Store:
        if "store" not in state:
            state["store"] = Store(db_path)
        return state["store"]

    def denied(request: Request) -> JSONResponse | None:
        problem = check_write_token(request.headers.get("authorization"), token)
        if problem is None:
            return None
        status, reason = problem
        headers = {"www-authenticate": 'Bearer realm="paperlens"'} if status == 401 else None
        return JSONResponse({"error": reason, "status": status}, status_code=status, headers=headers)

    @app.post("/api/ingest", tags=["write"], summary="Ingest one uploaded source file (needs the write token)",
              response_model=IngestReport, responses={
                  400: {"model": ApiError | IngestReport,
                        "description": "An unknown format, an empty body, or a file that could not be read"},
                  401: {"model": ApiError, "description": "No or a wrong bearer token"},
                  403: {"model": ApiError, "description": "Writing is off (no write token configured)"},
                  422: {"model": IngestReport, "description": "Every record was rejected"},
                  507: {"model": ApiError, "description": "The database cannot be written (read-only or full)"}})
    async def api_ingest(request: Request, name: str = "upload", format: str = "auto"):
        refused = denied(request)
        if refused is not None:
            return refused
        if format != "auto" and format not in SOURCES:
            return JSONResponse({"error": f"unknown format {format[:40]!r}; known: auto, {', '.join(SOURCES)}",
                                 "status": 400}, status_code=400)
        body = await request.body()  # BodyLimit answers 413 past the cap
        if not body.strip():
            return JSONResponse({"error": "empty body: send the file's bytes", "status": 400}, status_code=400)
        shown = upload_name(name)

        def run() -> dict:
            with tempfile.TemporaryDirectory(prefix="paperlens-upload-") as tmp:
                path = Path(tmp) / shown
                path.write_bytes(body)
                with lock:
                    # Records and provenance name the uploaded file, never this temporary copy.
                    report = ingest_paths(writable(), [path], fmt=format, shown_as={str(path): shown})
                prefix = str(path)
            rename = lambda text: text.replace(prefix, shown)  # noqa: E731 - the temp path means nothing to a client
            return {"file": shown, "new": report.new, "merged": report.merged, "unchanged": report.unchanged,
                    "rejected": report.rejected,
                    "rejections": [{"line": r.line, "message": r.message} for r in report.rejections[:MAX_REJECTIONS]],
                    "errors": [rename(problem) for _, problem in report.file_errors]}

        try:
            result = await run_in_threadpool(run)
        except sqlite3.DatabaseError as exc:  # a read-only or full disk: one sentence, not a 500
            message = db_error_message(exc, Path(db_path).name)
            if message is None:
                raise
            return JSONResponse({"error": message, "status": 507}, status_code=507)
        stored = result["new"] or result["merged"] or result["unchanged"]
        status = 200 if stored else 400 if result["errors"] else 422 if result["rejected"] else 200
        return JSONResponse(result, status_code=status)
