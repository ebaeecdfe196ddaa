"""The read-only web digest: server-rendered pages, a JSON API, Atom feeds and BibTeX exports."""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from urllib.parse import quote, urlsplit

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from paperlens.core.clock import utcnow
from paperlens.core.envvars import env_int
from paperlens.export.bibtex import write_bibtex
from paperlens.store import Store
from paperlens.web import api, pages
from paperlens.web.catalog import Catalog
from paperlens.web.feedback import paper_panel
from paperlens.web.feeds import atom_feed
from paperlens.web.guard import (
    DEFAULT_MAX_BODY,
    DEFAULT_TIME_LIMIT,
    BodyLimit,
    SearchLimit,
    TimeLimit,
    write_token_from_env,
)
from paperlens.web.i18n import LANGS, labels, pick_lang
from paperlens.web.middleware import (
    DEFAULT_CACHE_BYTES,
    SECURITY_HEADERS,
    CanonicalQuery,
    PageCache,
    PinCatalog,
    SecurityHeaders,
)
from paperlens.web.profiles import add_profile_routes
from paperlens.web.render import STATIC, Links, make_env
from paperlens.web.snapshot import snapshot_path
from paperlens.web.write import add_write_routes

MAX_PAGE = 100_000
MAX_LIMIT = 500
MAX_OFFSET = 10_000_000
# The search indexes start warming when the first request is answered, or this long after the app is made.
WARM_AFTER_S = 2.0


class BadRequest(Exception):
    pass


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def feed_base(request: Request, configured: str | None) -> str:
    """scheme://host[:port] for absolute links: the configured base URL, else the request's Host when it
    names this machine or the address the server listens on, else that address itself."""
    if configured:
        return configured
    server = request.scope.get("server") or ("127.0.0.1", None)
    listen_host, listen_port = server[0], server[1]
    scheme = "https" if request.url.scheme == "https" else "http"
    host = (request.headers.get("host") or "").strip()
    parts = urlsplit(f"//{host}") if host and "@" not in host else None
    try:
        name, port = (parts.hostname, parts.port) if parts is not None else (None, None)
    except ValueError:  # a port that is not a number
        name, port = None, None
    if name and port != 0 and (name in LOCAL_HOSTS or name == listen_host):
        return f"{scheme}://{parts.netloc.lower()}"
    if ":" in str(listen_host):
        listen_host = f"[{listen_host}]"
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{listen_host}" + (f":{listen_port}" if listen_port and listen_port != default else "")


# -- query parameters: strict, so bad values give 400 instead of surprises --------------------------------
def int_param(request: Request, name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {raw[:40]!r}") from None
    if not lo <= value <= hi:
        raise BadRequest(f"{name} must be between {lo} and {hi}")
    return value


def choice_param(request: Request, name: str, choices: tuple, default: str = "") -> str:
    raw = request.query_params.get(name, default)
    if raw not in choices:
        raise BadRequest(f"{name} must be one of {', '.join(c or '(empty)' for c in choices)}")
    return raw


def list_filters(request: Request) -> pages.ListFilters:
    code = choice_param(request, "code", ("", "0", "1"))
    venue = request.query_params.get("venue") or None
    kw = request.query_params.get("kw") or None
    if (venue and len(venue) > 300) or (kw and len(kw) > 300):
        raise BadRequest("venue and kw must be under 300 characters")
    return pages.ListFilters(year=int_param(request, "year", None, 1000, 9999), venue=venue,
                             code=code == "1", kw=kw, sort=choice_param(request, "sort", pages.SORTS))


_FROM_ENV = object()


def worker_threads() -> int:
    """Threads that run blocking handlers (SQLite, Jinja, search) at once: PAPERLENS_WORKER_THREADS, default
    two per core. anyio's default, 40, only made the threads queue for the GIL. Uncached /api/search at 20
    clients against 1 client, 100k papers, 2 cores: 40 threads 0.58x, 8 0.63x, 4 0.71x, 2 0.90x, 1 1.06x
    (2026-12-02). One per core or fewer scales best but lets a few slow requests (a handler still running
    after its time limit keeps its thread) hold up the rest, so the default keeps some slack."""
    return env_int("PAPERLENS_WORKER_THREADS", 2 * (os.cpu_count() or 1), minimum=1)


@asynccontextmanager
async def _lifespan(app):
    anyio.to_thread.current_default_thread_limiter().total_tokens = worker_threads()
    yield
    catalog = getattr(app.state, "catalog", None)
    if catalog is not None:  # a catalog snapshot being saved is finished, so the next start finds it
        await anyio.to_thread.run_sync(catalog.finish_saving)


def searcher_of(store: Store):
    """The store's searcher, a background one (see HybridSearcher). paperlens.search (numpy and the index
    code: a tenth of a second of the server's start) is imported on first use; every use here comes
    through this, so the first call, which decides the kind, always asks for background (as does
    catalog.similar, with search_background set)."""
    from paperlens.search.query import searcher_for

    return searcher_for(store, background=True)


def run_search(store: Store, q: str, **kwargs):
    """paperlens.search.query.search with the store's searcher made by searcher_of."""
    from paperlens.search.query import search

    searcher_of(store)
    return search(store, q, **kwargs)


def telemetry_options() -> dict:
    """FastAPI >= 0.160 asks OpenTelemetry on every request whether anyone listens (several environment
    reads and provider lookups: a third of a cached page's cost, bench/limits.py). Off unless
    PAPERLENS_OTEL=1, which keeps FastAPI's own defaults."""
    import inspect

    if os.environ.get("PAPERLENS_OTEL") == "1" or "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def create_app(db_path: str, *, cache_size: int | None = None, write_token: str | None | object = _FROM_ENV,
               max_body: int = DEFAULT_MAX_BODY, request_timeout: float = DEFAULT_TIME_LIMIT,
               cache_bytes: int | None = None, base_url: str | None = None) -> FastAPI:
    """The app over one database, opened read-only. Rendered pages are cached until the database
    changes: at most PAPERLENS_PAGE_CACHE entries (default 2048) and PAPERLENS_CACHE_BYTES bytes
    (default 64 MiB); either at 0 turns the cache off.

    Write endpoints (POST /api/ingest) answer 403 unless `write_token` is set (default: the
    PAPERLENS_WRITE_TOKEN variable), then need `Authorization: Bearer <token>`. Bodies over `max_body`
    bytes get 413; a request running over `request_timeout` seconds is cut off (408/503).

    Feeds need absolute links: they use `base_url` (default PAPERLENS_BASE_URL), else the request's
    Host only when it names this machine (localhost, 127.0.0.1, ::1) or the address the server
    listens on; a forged Host is never written into a feed."""
    if cache_size is None:
        cache_size = env_int("PAPERLENS_PAGE_CACHE", 2048)
    if cache_bytes is None:
        cache_bytes = env_int("PAPERLENS_CACHE_BYTES", DEFAULT_CACHE_BYTES)
    if base_url is None:
        base_url = os.environ.get("PAPERLENS_BASE_URL", "").strip() or None
    if base_url is not None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base URL {base_url!r}: give http(s)://host[:port][/path]")
        base_url = base_url.rstrip("/")
    token = write_token_from_env() if write_token is _FROM_ENV else (write_token or None)
    store = Store(db_path, readonly=True)
    # The catalog starts from its snapshot beside the database when there is a usable one (web/snapshot.py);
    # PAPERLENS_CATALOG_SNAPSHOT=0 builds it from the papers every time, and saves none.
    keep = os.environ.get("PAPERLENS_CATALOG_SNAPSHOT", "1").strip() != "0"
    catalog = Catalog(store, snapshot=snapshot_path(db_path) if keep else None, home=pages.home_lists)
    # Search indexes are built or caught up in background threads: at a million papers a first keyword
    # index takes about a minute and a vector index minutes, longer than any request may wait. They start
    # once the first request is answered (or WARM_AFTER_S from now): loading the word lists meanwhile
    # (about a second of CPU) slowed the server's start by a third (bench/limits.py, serve).
    # paperlens.search is imported then too, or by the first search (see searcher_of).
    answered = threading.Event()
    catalog.search_background = True
    # A catalog started from its snapshot's home page preview loads the rest then too (catalog_start.py).
    threading.Thread(target=lambda: (answered.wait(WARM_AFTER_S), catalog.wait_full(), searcher_of(store).warm()),
                     name="paperlens-warm-later", daemon=True).start()
    env = make_env()
    app = FastAPI(title="paperlens", version="1", docs_url=None, redoc_url=None,
                  description="Read-only JSON API of a paperlens digest.", lifespan=_lifespan,
                  **telemetry_options())
    # Outermost last. A cache hit is answered by PageCache alone, before the guards: its stored headers
    # already carry the security headers, and it has no body to limit and no time to run out of.
    app.add_middleware(CanonicalQuery)
    app.add_middleware(PinCatalog, catalog=catalog, answered=answered)
    app.add_middleware(SearchLimit)  # a few searches at once; waiting counts towards the time limit
    app.add_middleware(BodyLimit, max_bytes=max_body)
    app.add_middleware(TimeLimit, seconds=request_timeout)
    app.add_middleware(SecurityHeaders)  # its headers also reach the guards' own answers
    app.add_middleware(PageCache, catalog=catalog, size=cache_size, max_bytes=cache_bytes, state=app.state)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.state.catalog = catalog

    def lang_of(request: Request) -> str:
        return pick_lang(request.query_params.get("lang"), request.cookies.get("lang"))

    def html(request: Request, template: str, build: Callable[[], dict], status: int = 200) -> Response:
        catalog.refresh()
        lang = lang_of(request)
        ctx = build()
        ctx.update(request_path=request.url.path, lang=lang, t=labels(lang), L=Links(dict(request.query_params)),
                   catalog=catalog)
        body = env.get_template(template).render(ctx).encode("utf-8")
        response = Response(body, status_code=status, media_type="text/html; charset=utf-8",
                            headers={"x-pl-cacheable": "1"})
        if request.query_params.get("lang") in LANGS:
            response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
        return response

    def error_page(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message, "status": status}, status_code=status)
        lang = lang_of(request)
        t = labels(lang)
        body = env.get_template("error.html").render(
            status=status, message=message, title=t["not_found"] if status == 404 else t["bad_request"],
            lang=lang, t=t, L=Links({}), request_path=request.url.path)
        return HTMLResponse(body, status_code=status)

    @app.exception_handler(BadRequest)
    def _bad(request: Request, exc: BadRequest):
        return error_page(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return error_page(request, 400, f"{where}: {first.get('msg', 'invalid value')}")

    @app.exception_handler(pages.NotFound)
    def _missing(request: Request, exc: pages.NotFound):
        return error_page(request, 404, str(exc))

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException):
        return error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    def _crash(request: Request, exc: Exception):  # a bug; still no stack trace out
        # Starlette answers this one outside every middleware, so the security headers are set here.
        response = error_page(request, 500, "internal error")
        for name, value in SECURITY_HEADERS:
            response.headers[name.decode()] = value.decode()
        return response

    def page_number(request: Request) -> int:
        return int_param(request, "page", 1, 1, MAX_PAGE)

    def per_page(request: Request, default: int = 25) -> int:
        return int_param(request, "per_page", default, 5, 200)

    def bibtex_response(papers, name: str) -> Response:
        out = io.StringIO()
        write_bibtex(papers, out)
        safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in name)[:60] or "papers"
        return Response(out.getvalue(), media_type="application/x-bibtex; charset=utf-8",
                        headers={"content-disposition": f'inline; filename="{safe}.bib"'})

    def wants_bibtex(request: Request) -> bool:
        return choice_param(request, "format", ("", "html", "bibtex")) == "bibtex"

    # -- pages ------------------------------------------------------------------------------------
    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request):
        return html(request, "index.html", lambda: pages.index_context(catalog))

    @app.api_route("/topics/{slug}", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def topic(request: Request, slug: str):
        catalog.refresh()
        if wants_bibtex(request):
            ctx = pages.topic_context(catalog, slug, list_filters(request), 1, 10**9)
            return bibtex_response(catalog.papers.many(ctx["all_ids"]), slug)
        return html(request, "topic.html", lambda: pages.topic_context(
            catalog, slug, list_filters(request), page_number(request), per_page(request)))

    @app.api_route("/tags/{norm}", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def tag(request: Request, norm: str):
        catalog.refresh()
        if wants_bibtex(request):
            ctx = pages.tag_context(catalog, norm, list_filters(request), 1, 10**9)
            return bibtex_response(catalog.papers.many(ctx["all_ids"]), norm)
        return html(request, "tag.html", lambda: pages.tag_context(
            catalog, norm, list_filters(request), page_number(request), per_page(request)))

    @app.api_route("/authors/{slug}", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def author(request: Request, slug: str):
        catalog.refresh()
        if wants_bibtex(request):
            return bibtex_response(pages.author_context(catalog, slug)["all_papers"], slug)
        return html(request, "author.html", lambda: pages.author_context(catalog, slug))

    @app.api_route("/papers/{pid:path}", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def paper(request: Request, pid: str):
        catalog.refresh()
        if pid not in catalog.papers:
            real = catalog.canonical_id(pid)
            if real is None or real not in catalog.papers:
                raise pages.NotFound(f"no paper with id {pid[:200]!r}")
            return RedirectResponse(f"/papers/{quote(real, safe=':')}", status_code=301)
        if wants_bibtex(request):
            return bibtex_response(catalog.papers.many([pid]), pid)
        def build() -> dict:
            ctx = pages.paper_context(catalog, pid)
            if token:  # 👍/👎 per profile only where writes are on (web/feedback.py)
                ctx["feedback"] = paper_panel(store, pid, labels(lang_of(request)))
            return ctx

        return html(request, "paper.html", build)

    @app.api_route("/feed", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def feed(request: Request):
        return html(request, "feed.html", lambda: pages.feed_context(catalog, page_number(request),
                                                                      per_page(request, 30)))

    def search_filters(request: Request) -> dict:
        code = choice_param(request, "code", ("", "0", "1"))
        return {"year": int_param(request, "year", None, 1000, 9999), "has_code": True if code == "1" else None}

    @app.api_route("/search", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request):
        catalog.refresh()
        q = request.query_params.get("q", "")
        size = per_page(request, 20)
        if wants_bibtex(request):
            found = run_search(store, q, limit=MAX_LIMIT, filters=search_filters(request))
            return bibtex_response(catalog.papers.many([h.id for h in found.hits]), "search")

        def build():
            page = page_number(request)
            found = run_search(store, q, limit=size, offset=(page - 1) * size, filters=search_filters(request))
            pages_n = max(1, -(-found.total // size))
            if found.total and page > pages_n:
                raise pages.NotFound(f"page {page} is past the last page ({pages_n})")
            shown = {p.id: p for p in catalog.papers.many([h.id for h in found.hits])}
            hits = [(shown[h.id], h.score) for h in found.hits if h.id in shown]
            return {"q": q, "found": found, "hits": hits, "page": page, "pages": pages_n}

        return html(request, "search.html", build)

    @app.api_route("/trends", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def trends(request: Request):
        t = labels(lang_of(request))
        return html(request, "trends.html", lambda: pages.trends_context(catalog, t["papers_per_year"],
                                                                          t["topic_sizes"]))

    # -- feeds and exports ------------------------------------------------------------------------
    def updated_stamp() -> str:
        stamp = catalog.signature[1] if catalog.signature and catalog.signature[1] else None
        return stamp or utcnow()

    def atom(request: Request, title: str, papers, page_path: str) -> Response:
        base = feed_base(request, base_url)
        query = request.url.query
        feed_url = base + quote(request.url.path, safe="/:@%") + ("?" + query if query else "")
        body = atom_feed(title, feed_url, base + page_path, papers[:100], updated_stamp(),
                         lambda pid: f"{base}/papers/{quote(pid, safe=':')}")
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    @app.api_route("/feeds/topics/{slug}.atom", methods=["GET", "HEAD"], include_in_schema=False)
    def topic_atom(request: Request, slug: str):
        catalog.refresh()
        info = catalog.topics.get(slug)
        if info is None:
            raise pages.NotFound(f"no topic {slug!r}")
        ids = pages.filter_and_sort(catalog, info.ids, pages.ListFilters(sort="date"))
        return atom(request, f"paperlens · {info.label}", catalog.papers.many(ids[:100]), Links().topic(slug))

    @app.api_route("/feeds/authors/{slug}.atom", methods=["GET", "HEAD"], include_in_schema=False)
    def author_atom(request: Request, slug: str):
        catalog.refresh()
        info = catalog.authors.get(slug)
        if info is None:
            raise pages.NotFound(f"no author {slug!r}")
        ids = pages.filter_and_sort(catalog, info.ids, pages.ListFilters(sort="date"))
        return atom(request, f"paperlens · {info.name}", catalog.papers.many(ids[:100]), Links().author(slug))

    @app.api_route("/feeds/search.atom", methods=["GET", "HEAD"], include_in_schema=False)
    def search_atom(request: Request):
        catalog.refresh()
        q = request.query_params.get("q", "")
        found = run_search(store, q, limit=100, filters=search_filters(request))
        papers = catalog.papers.many([h.id for h in found.hits])
        return atom(request, f"paperlens · search: {q[:100]}", papers, Links().search(q))

    @app.api_route("/export/{kind}/{name}.bib", methods=["GET", "HEAD"], include_in_schema=False)
    def export_bib(request: Request, kind: str, name: str):
        catalog.refresh()
        if kind == "topics":
            info = catalog.topics.get(name)
            ids = info.ids if info else None
        elif kind == "authors":
            info = catalog.authors.get(name)
            ids = info.ids if info else None
        elif kind == "tags":
            info = catalog.keywords.get(name)
            ids = info.ids if info else None
        else:
            ids = None
        if ids is None:
            raise pages.NotFound(f"nothing to export at {kind}/{name}")
        return bibtex_response(catalog.papers.many(ids), name)

    # -- JSON API (what each route answers is in web/api.py) ----------------------------------------
    @app.get("/api/papers", tags=["papers"], summary="List papers, newest first", response_model=api.PaperList,
             responses=api.ERRORS)
    def api_papers(request: Request, limit: int = 50, offset: int = 0, topic: str | None = None,
                   year: int | None = None):
        catalog.refresh()
        return api.list_papers(catalog, limit=int_param(request, "limit", 50, 1, MAX_LIMIT),
                               offset=int_param(request, "offset", 0, 0, MAX_OFFSET), topic=topic, year=year)

    @app.get("/api/papers/{pid:path}", tags=["papers"], summary="One paper, everything known (effective view)",
             response_model=api.PaperDetail, responses=api.NOT_FOUND)
    def api_paper(pid: str):
        catalog.refresh()
        return api.paper_detail(catalog, store, pid)

    @app.get("/api/topics", tags=["topics"], summary="Areas and topics with paper counts",
             response_model=api.TopicList)
    def api_topics():
        catalog.refresh()
        return api.list_topics(catalog)

    @app.get("/api/authors/{slug}", tags=["authors"], summary="An author's papers and co-authors",
             response_model=api.AuthorPapers, responses=api.NOT_FOUND)
    def api_author(slug: str):
        catalog.refresh()
        return api.author_papers(catalog, slug)

    @app.get("/api/search", tags=["search"], summary="Ranked full-text search", response_model=api.SearchResults,
             responses=api.BAD_REQUEST)
    def api_search(request: Request, response: Response, q: str = "", limit: int = 20, offset: int = 0,
                   year: int | None = None):
        catalog.refresh()
        limit = int_param(request, "limit", 20, 1, MAX_LIMIT)
        offset = int_param(request, "offset", 0, 0, MAX_OFFSET)
        found = run_search(store, q, limit=limit, offset=offset, filters=search_filters(request))
        # The same query gives the same answer until the catalog changes: the page cache may keep it.
        response.headers["x-pl-cacheable"] = "1"
        return api.search_results(catalog, q, found)

    @app.api_route("/docs", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def docs(request: Request):
        # A self-hosted docs page (the stock Swagger UI loads from a CDN, which CSP and offline use forbid).
        spec = app.openapi()
        return html(request, "docs.html", lambda: {"spec": spec, "spec_json": json.dumps(spec, indent=2),
                                                   "api_view": api.docs_view(spec)})

    add_write_routes(app, db_path, token)
    add_profile_routes(app, store, db_path, token, lambda request: feed_base(request, base_url))
    stock_openapi = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = api.without_validation_errors(stock_openapi())
        return app.openapi_schema

    app.openapi = openapi
    return app
