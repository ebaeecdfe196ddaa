"""Guards in front of the web app: a cap on request bodies (413), a time limit per request, a cap on
searches running at once, and the bearer token that write endpoints need (writes are off unless a token is
configured).

The limits are pure ASGI middleware so they also cover requests that never reach a route."""

from __future__ import annotations

import asyncio
import hmac
import json
import os

import anyio
from starlette.exceptions import HTTPException

from paperlens.core.envvars import env_int

DEFAULT_MAX_BODY = 20 * 1024 * 1024  # an uploaded source file; pages and the read API take no body
DEFAULT_TIME_LIMIT = 30.0
WRITE_TOKEN_ENV = "PAPERLENS_WRITE_TOKEN"


async def _send_error(scope, send, status: int, message: str, headers: list | None = None) -> None:
    if scope.get("path", "").startswith("/api/"):
        body, kind = json.dumps({"error": message, "status": status}).encode(), b"application/json"
    else:
        body, kind = message.encode("utf-8"), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for a body over `max_bytes`: at once when Content-Length says so, else as soon as the bytes
    read pass the limit (a chunked upload), raised inside the route so the app's error page answers."""

    def __init__(self, app, max_bytes: int = DEFAULT_MAX_BODY):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                return await _send_error(scope, send, 400, "Content-Length is not a number")
            if size > self.max_bytes:
                return await _send_error(scope, send, 413, f"request body over {self.max_bytes} bytes")
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, f"request body over {self.max_bytes} bytes")
            return message

        return await self.app(scope, receive if self.max_bytes <= 0 else counted, send)


class TimeLimit:
    """Cuts off a request that takes longer than `seconds`: 408 while its body is still arriving (a slow
    client), 503 when the server is the slow part. A handler running in the thread pool is answered at the
    deadline (its thread cannot be killed: it finishes in the background, its answer dropped). A handler
    that blocks the event loop cannot be interrupted; its late answer is replaced by the 503. A response
    already under way when the deadline passes is ended by closing the connection."""

    def __init__(self, app, seconds: float = DEFAULT_TIME_LIMIT):
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.seconds <= 0:
            return await self.app(scope, receive, send)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        state = {"started": False, "late": False, "body_done": not _has_body(scope)}

        async def tracked_receive():
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body"):
                state["body_done"] = True
            return message

        async def tracked_send(message):
            if message["type"] == "http.response.start" and not state["late"]:
                if loop.time() > deadline:
                    state["late"] = True
                else:
                    state["started"] = True
            if not state["late"]:
                await send(message)

        try:
            # a deadline on this task (no new task per request, unlike wait_for)
            async with asyncio.timeout(self.seconds):
                await self.app(scope, tracked_receive, tracked_send)
        except TimeoutError:
            if state["started"]:
                raise  # uvicorn closes the connection: the client sees a cut response, not a wrong one
            state["late"] = True
        if state["late"]:
            if state["body_done"]:
                await _send_error(scope, send, 503, f"the request took over {self.seconds:g} s and was stopped",
                                  [(b"retry-after", b"5")])
            else:
                await _send_error(scope, send, 408, f"the request body took over {self.seconds:g} s to arrive")


SEARCH_PATHS = frozenset({"/search", "/api/search", "/feeds/search.atom"})


def search_slots() -> int:
    """Searches that run at once: PAPERLENS_SEARCH_THREADS, default half the cores (at least 1, at most 4).
    A search is mostly Python under the GIL: more of them at once only hand the GIL to and fro (each
    SQLite and numpy call releases it) and starve the event loop. Uncached /api/search at 20 clients
    against 1, 100k papers, 2 cores (bench/limits.py --only api-search, 2026-12-02): 4 at once (the
    worker pool's size) 0.76-0.91x, 1 at once (this default on 2 cores) 0.98-1.03x."""
    return env_int("PAPERLENS_SEARCH_THREADS", max(1, min(4, (os.cpu_count() or 1) // 2)), minimum=1)


class SearchLimit:
    """At most `slots` search requests (SEARCH_PATHS) in the app at once; the rest wait their turn in the
    event loop, holding no worker thread, so pages keep being answered meanwhile. Inside TimeLimit: a
    request that waits past its time limit gets the 503 as a slow one does."""

    def __init__(self, app, slots: int | None = None):
        self.app = app
        self.slots = slots or search_slots()
        self.limiter: anyio.CapacityLimiter | None = None  # made in the event loop, on the first search

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] not in SEARCH_PATHS:
            return await self.app(scope, receive, send)
        if self.limiter is None:
            self.limiter = anyio.CapacityLimiter(self.slots)
        async with self.limiter:
            await self.app(scope, receive, send)


def _has_body(scope) -> bool:
    headers = dict(scope.get("headers", []))
    return headers.get(b"content-length", b"0") not in (b"0", b"") or b"transfer-encoding" in headers


def write_token_from_env(name: str | None = None) -> str | None:
    """The write token from environment variable `name` (default PAPERLENS_WRITE_TOKEN); None (writes
    off) when unset or blank, so an empty variable never means 'no token needed'."""
    value = os.environ.get(name or WRITE_TOKEN_ENV, "").strip()
    return value or None


def check_write_token(authorization: str | None, token: str | None) -> tuple[int, str] | None:
    """None when the request may write; else (status, reason): 403 writes are off, 401 bad credentials."""
    if not token:
        return 403, ("this server is read-only: writes are off unless it is started with "
                     f"--write-token-env NAME or {WRITE_TOKEN_ENV}")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return 401, "this endpoint needs 'Authorization: Bearer <token>'"
    if not hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8")):
        return 401, "wrong token"
    return None


DEFAULT_MAX_HEADER = 64 * 1024  # request line and headers together; real browsers send a few kB


class _HeadersTooLarge(Exception):
    pass


def http_protocol(max_header_bytes: int = DEFAULT_MAX_HEADER):
    """(uvicorn `http` setting, extra uvicorn settings) that refuse a request whose request line and headers
    pass `max_header_bytes`: with httptools (uvicorn's choice when it is installed) a subclass of its
    protocol that answers 431 and closes the connection as soon as that many header bytes have arrived
    (httptools itself buffers a header of any size); else h11 with `h11_max_incomplete_event_size`
    (h11 answers 400 and closes). 0 keeps the server's own behaviour."""
    if max_header_bytes <= 0:
        return "auto", {}
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "h11", {"h11_max_incomplete_event_size": max_header_bytes}

    class HeaderLimitedHttpTools(HttpToolsProtocol):
        limit = max_header_bytes

        def connection_made(self, transport) -> None:
            self._head_bytes = 0  # bytes received while the request line and headers are incomplete
            self._head_size = 0  # their size as parsed (URL, names and values)
            self._in_head = True
            self._too_large = False
            super().connection_made(transport)

        def data_received(self, data: bytes) -> None:
            if self._in_head:
                self._head_bytes += len(data)
            super().data_received(data)
            # Still inside the request line and headers after this chunk and over the limit: refuse now,
            # before httptools buffers more of it (it keeps a header of any size in memory).
            if self._in_head and self._head_bytes > self.limit and not self.transport.is_closing():
                self._too_large = True
                self._refuse()

        def on_message_begin(self) -> None:
            self._in_head = True
            self._head_size = 0
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            self._head_size += len(url)
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._head_size += len(name) + len(value) + 4
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            if self._head_size > self.limit:  # arrived in one piece, still too large
                self._too_large = True
                raise _HeadersTooLarge  # httptools raises it out of feed_data; uvicorn answers below
            self._in_head = False
            self._head_bytes = 0
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_head = True
            self._head_bytes = 0

        def send_400_response(self, msg: str) -> None:
            if self._too_large:
                self._refuse()
            else:
                super().send_400_response(msg)

        def _refuse(self) -> None:
            if self.transport.is_closing():
                return
            body = f"request headers over {self.limit} bytes".encode()
            self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                 b"content-type: text/plain; charset=utf-8\r\n"
                                 b"content-security-policy: default-src 'none'\r\n"
                                 b"x-content-type-options: nosniff\r\n"
                                 b"content-length: " + str(len(body)).encode() + b"\r\n"
                                 b"connection: close\r\n\r\n" + body)
            self.transport.close()

    return HeaderLimitedHttpTools, {}
