"""The pure ASGI layers in front of the app's routes (cheaper than BaseHTTPMiddleware): security headers on
every answer, one catalog version per request, canonical query strings, the page cache, and the front door
that `paperlens serve` runs (CacheFront). create_app (app.py) stacks them; guard.py holds the limits."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from urllib.parse import parse_qsl, urlencode

import anyio
from fastapi import FastAPI

from paperlens.web.catalog import Catalog
from paperlens.web.i18n import LANGS, pick_lang

SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                 b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]

class SecurityHeaders:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware): adds the headers to every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in names]
            await send(message)

        return await self.app(scope, receive, send_with_headers)


class PinCatalog:
    """Pure ASGI: each request sees the catalog version current when it arrived, from its first line to
    its last, even if another request rebuilds the catalog meanwhile (no page mixes two versions)."""

    def __init__(self, app, catalog: Catalog, answered: threading.Event | None = None):
        self.app = app
        self.catalog = catalog
        self.answered = answered  # set once a first request has been answered (create_app's warm-up waits)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.catalog.partial and scope["path"] != "/" and not scope["path"].startswith("/static/"):
            # Only the home page is answered from a catalog's preview (catalog_start.py): anything else
            # waits for the rest, loaded in a worker thread, so that the request is pinned to it.
            await anyio.to_thread.run_sync(self.catalog.wait_full)
        if self.catalog.due():
            # Asking SQLite whether anything changed, and waiting briefly for a small rebuild, happen in a
            # worker thread: the event loop keeps answering other requests meanwhile.
            await anyio.to_thread.run_sync(self.catalog.refresh)
        token = self.catalog.pin()
        try:
            await self.app(scope, receive, send)
        finally:
            self.catalog.unpin(token)
            if self.answered is not None:
                self.answered.set()
                self.answered = None


# Query parameters some page or API route reads; any other is dropped from the request (so junk
# parameters neither reach the pages' links nor make new cache entries), and a repeated one keeps its
# last value (the one the routes read).
KNOWN_PARAMS = frozenset({"q", "page", "per_page", "year", "venue", "code", "kw", "sort", "format", "limit",
                          "offset", "topic", "lang"})
DEFAULT_CACHE_BYTES = 64 * 2**20
CACHE_ENTRY_OVERHEAD = 512  # bytes an entry costs beyond its body, headers and key (dict slot, tuples)


def canonical_query(raw: bytes) -> bytes:
    """The query string with only KNOWN_PARAMS, each once (its last value), in a fixed order."""
    if not raw:
        return raw
    last: dict[str, str] = {}
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if key in KNOWN_PARAMS:
            last[key] = value
    return urlencode(sorted(last.items())).encode("ascii")


class CanonicalQuery:
    """Pure ASGI: GET and HEAD requests reach the routes with their canonical query string."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and scope.get("query_string"):
            scope = dict(scope)
            scope["query_string"] = canonical_query(scope["query_string"])
        return await self.app(scope, receive, send)


class PageCache:
    """Rendered pages by path, query and language, dropped whole when the catalog changes.

    Bounded twice: at most `size` entries and `max_bytes` bytes (bodies, headers and keys), least
    recently used first out; a page larger than an eighth of the budget is not kept. The query is the
    canonical one (see CanonicalQuery), so junk parameters make no new entries.

    Pure ASGI, the outermost layer: a hit never reaches the guards or FastAPI's routing (the stored
    headers include the security headers). Routes opt in by sending the internal `x-pl-cacheable`
    header on a 200 response."""

    def __init__(self, app, catalog: Catalog, size: int, max_bytes: int = DEFAULT_CACHE_BYTES, state=None):
        if state is not None:
            state.page_cache = self  # for tests and benchmarks (the middleware stack is built lazily)
        self.app = app
        self.catalog = catalog
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self.items: OrderedDict[tuple, tuple[bytes, list, int]] = OrderedDict()
        self.version = -1
        self.lock = threading.Lock()

    @staticmethod
    def key(scope) -> tuple[tuple, str | None]:
        query = parse_qsl(canonical_query(scope.get("query_string", b"")).decode("latin-1"),
                          keep_blank_values=True)
        lang_query = next((v for k, v in query if k == "lang"), None)
        cookie = b"".join(v for k, v in scope.get("headers", []) if k == b"cookie").decode("latin-1")
        match = re.search(r"(?:^|;\s*)lang=(\w+)", cookie)
        lang = pick_lang(lang_query, match.group(1) if match else None)
        return (scope["path"], tuple((k, v) for k, v in query if k != "lang"), lang), lang_query

    def _put(self, key: tuple, body: bytes, headers: list) -> None:
        """Under self.lock."""
        cost = (len(body) + sum(len(k) + len(v) for k, v in headers) + len(key[0])
                + sum(len(k) + len(v) for k, v in key[1]) + CACHE_ENTRY_OVERHEAD)
        if cost > self.max_bytes // 8:
            return
        old = self.items.pop(key, None)
        if old is not None:
            self.bytes -= old[2]
        self.items[key] = (body, headers, cost)
        self.bytes += cost
        while self.items and (len(self.items) > self.size or self.bytes > self.max_bytes):
            _, (_, _, freed) = self.items.popitem(last=False)
            self.bytes -= freed

    async def answer(self, scope, send) -> tuple | None:
        """Answer a GET from the cache: None when it did (a hit), else the (key, lang) to store under."""
        if self.catalog.partial and scope["path"] != "/" and not scope["path"].startswith("/static/"):
            # Only the home page is answered from a catalog's preview (catalog_start.py): anything else
            # waits for the rest, loaded in a worker thread, so that the request is pinned to it.
            await anyio.to_thread.run_sync(self.catalog.wait_full)
        if self.catalog.due():  # as PinCatalog does: a hit must not outlive a change of the database
            await anyio.to_thread.run_sync(self.catalog.refresh)
        key, lang_query = self.key(scope)
        with self.lock:
            if self.version != self.catalog.version:
                self.items.clear()
                self.bytes = 0
                self.version = self.catalog.version
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
        if hit is None:
            return key, lang_query
        body, headers, _ = hit
        if lang_query in LANGS:
            headers = [*headers, (b"set-cookie", f"lang={lang_query}; Max-Age=31536000; Path=/; "
                                                 f"SameSite=lax; HttpOnly".encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return None

    def active(self, scope) -> bool:
        return self.size > 0 and self.max_bytes > 0 and scope["type"] == "http" and scope["method"] == "GET"

    async def __call__(self, scope, receive, send):
        if not self.active(scope):
            return await self.app(scope, receive, send)
        if scope.get("pl.cache_missed"):  # CacheFront looked already
            key = scope["pl.cache_missed"]
        else:
            missed = await self.answer(scope, send)
            if missed is None:
                return
            key, _ = missed
        version = self.catalog.version
        captured: dict = {}

        async def capture(message):
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if message["status"] == 200 and any(k == b"x-pl-cacheable" for k, _ in headers):
                    captured["headers"] = [(k, v) for k, v in headers if k not in (b"x-pl-cacheable", b"set-cookie")]
                    captured["body"] = []
                message["headers"] = [(k, v) for k, v in headers if k != b"x-pl-cacheable"]
            elif message["type"] == "http.response.body" and "body" in captured:
                captured["body"].append(message.get("body", b""))
                if not message.get("more_body"):
                    with self.lock:
                        if version == self.version:
                            self._put(key, b"".join(captured["body"]), captured["headers"])
            await send(message)

        await self.app(scope, receive, capture)


class CacheFront:
    """What `paperlens serve` runs: the app behind a front door that answers page-cache hits itself, before
    FastAPI's own layers (its telemetry check, Starlette's error middleware): cached pages at 20 clients went
    from 0.39x to 0.6x a bare ASGI app's throughput (bench/limits.py --only cached). A miss goes on into the
    app, where PageCache stores the answer as before; with no cache built yet (the app's middleware is built
    on its first request) everything goes in."""

    def __init__(self, app: FastAPI):
        self.app = app
        self.state = app.state

    async def __call__(self, scope, receive, send):
        cache = getattr(self.state, "page_cache", None) if scope["type"] == "http" else None
        if cache is not None and cache.active(scope):
            missed = await cache.answer(scope, send)
            if missed is None:
                return
            scope = {**scope, "pl.cache_missed": missed[0]}
        await self.app(scope, receive, send)
