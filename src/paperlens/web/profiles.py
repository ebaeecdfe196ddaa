"""Reader profiles on the web: a page per profile (its digests, newest first) and an Atom feed of the
papers its digests published. Served by the app (/profiles/NAME/, /feeds/profiles/NAME.atom) and written
as static files by `paperlens daily --site DIR` (DIR/profiles/NAME/index.html, DIR/feeds/profiles/NAME.atom)."""

from __future__ import annotations

import shlex
import sqlite3
import threading
import warnings
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from paperlens.store import Store, db_error_message
from paperlens.web.api import ApiError, ProfileFeedback
from paperlens.web.feedback import buttons, token_bar
from paperlens.web.feeds import atom_feed
from paperlens.web.guard import check_write_token
from paperlens.web.i18n import labels, pick_lang

MAX_DIGESTS = 30


def _updated(digests: list[dict]) -> str:
    stamps = [d["sent_at"] for d in digests if d.get("sent_at")]
    return max(stamps) if stamps else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def published_ids(store: Store, name: str, limit: int = 100) -> list[str]:
    out: list[str] = []
    for digest in store.profile_digests(name, limit=MAX_DIGESTS):
        if digest["status"] == "sent":
            out += [pid for pid in digest["papers"] if pid not in out]
    return out[:limit]


def profile_feed(store: Store, name: str, base_url: str, paper_url=None) -> bytes:
    """The Atom feed of what the profile's digests published (newest digest first)."""
    from paperlens.enrich.views import apply_enrichments

    base = base_url.rstrip("/")
    ids = published_ids(store, name)
    papers = {p.id: p for p in store.get_many(ids)}
    enrichments = store.enrichments_for_many(list(papers))
    ordered = [apply_enrichments(papers[i], enrichments.get(i, {})) for i in ids if i in papers]
    paper_url = paper_url or (lambda pid: f"{base}/papers/{quote(pid, safe=':')}")
    return atom_feed(f"paperlens · {name}", f"{base}/feeds/profiles/{quote(name)}.atom",
                     f"{base}/profiles/{quote(name)}/", ordered, _updated(store.profile_digests(name)), paper_url)


def profile_page(store: Store, name: str, feed_href: str, home_href: str = "/",
                 feedback_lang: str | None = None) -> str:
    """One page: every sent digest of the profile, newest first, each paper with its reasons. With
    `feedback_lang` (a server with a write token) each paper also gets 👍/👎 controls in that language,
    its current mark pressed, plus the stylesheet and app.js that make them work; without, the page is
    the plain read-only one (the static site, a server without a token)."""
    digests = [d for d in store.profile_digests(name, limit=MAX_DIGESTS) if d["status"] == "sent"]
    t = labels(feedback_lang) if feedback_lang else None
    marks = store.profile_papers(name) if t else {}
    parts = [f"<!doctype html><html lang=\"{'zh-CN' if feedback_lang == 'zh' else 'en'}\"><head><meta charset=\"utf-8\">",
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
             f"<title>paperlens · {escape(name)}</title>",
             f"<link rel=\"alternate\" type=\"application/atom+xml\" href=\"{escape(feed_href, quote=True)}\">"]
    if t:
        parts.append("<link rel=\"stylesheet\" href=\"/static/style.css\">"
                     "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">"
                     "<script src=\"/static/app.js\" defer></script>")
    parts += ["</head><body>", "<main class=\"wrap profile-page\">" if t else "",
              f"<p><a href=\"{escape(home_href, quote=True)}\">paperlens</a> · "
              f"<a href=\"{escape(feed_href, quote=True)}\">Atom feed</a></p>",
              f"<h1>Daily digest: {escape(name)}</h1>"]
    if t and digests:
        parts.append(token_bar(t))
    if not digests:
        parts.append("<p>No digest yet.</p>")
    for digest in digests:
        record = store.digest_get(name, digest["day"], digest["channel"], digest["recipient"]) or {}
        items = (record.get("body") or {}).get("items", [])
        parts.append(f"<section><h2>{escape(digest['day'])}</h2><ol>")
        for item in items:
            controls = ""
            if t:
                mark = marks.get(item["id"])
                if mark is None:
                    mark = marks.get(store.resolve_id(item["id"]) or item["id"])
                controls = " " + buttons(name, item["id"], mark, t)
            parts.append(f"<li data-paper=\"{escape(item['id'], quote=True)}\"><strong>{escape(item['title'])}</strong>"
                         f"{controls}<br><small>{escape('; '.join(item['reasons']))}</small></li>")
        parts.append("</ol>")
        problems = (record.get("body") or {}).get("problems") or []
        if problems:
            parts.append("<p><small>Problems in this run: " + escape("; ".join(problems)) + "</small></p>")
        parts.append("</section>")
    parts.append("</main></body></html>" if t else "</body></html>")
    return "".join(parts)


def profiles_index(store: Store, href=lambda name: f"{quote(name)}/", names: list[str] | None = None) -> str:
    if names is None:
        try:
            names = store.profile_names()
        except sqlite3.OperationalError:  # a database from before profiles
            names = []
    rows = "".join(f"<li><a href=\"{escape(href(n), quote=True)}\">{escape(n)}</a></li>" for n in names)
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>paperlens · profiles</title>"
            "</head><body><h1>Reader profiles</h1>" + (f"<ul>{rows}</ul>" if rows else "<p>No profiles.</p>")
            + "</body></html>")


def _shell_word(name: str) -> str:
    """`name` as one shell word, a newline or other control character written as bash's $'\\n'."""
    if name.isprintable():
        return shlex.quote(name)
    escaped = "".join(ch if ch.isprintable() and ch not in "\\'" else
                      "\\" + ch if ch in "\\'" else f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"
                      for ch in name)
    return f"$'{escaped}'"


def unsafe_profile_warning(name: str) -> str:
    return (f"profile {name!r}: skipped, its name cannot be a page path (a database from before names were "
            f"checked); remove it with `paperlens profile remove {'-- ' if name.startswith('-') else ''}{_shell_word(name)}` and remake it under a valid "
            f"name (letters, digits, '.', '_' or '-', no '..') with `paperlens profile add NAME FILE`")


def write_profile_site(store: Store, out_dir: str | Path, names: list[str] | None = None,
                       base_url: str = "", on_warning=None) -> list[Path]:
    """DIR/profiles/NAME/index.html and DIR/feeds/profiles/NAME.atom for each profile; the files written.
    A stored name that cannot be a path (`a..b`, one ending in a newline: databases from before names were
    checked) is skipped, `on_warning` (default: a Python warning) told why and how to remove it."""
    root = Path(out_dir)
    written = []
    if names is None:
        try:
            names = store.profile_names()
        except sqlite3.OperationalError:  # a read-only database from before profiles (migration 6)
            names = []
    from paperlens.recommend.profiles import (
        valid_name,  # the rule names are made by (imported for a site only)
    )

    for name in names:
        if not valid_name(name):
            (on_warning or (lambda message: warnings.warn(message, stacklevel=3)))(unsafe_profile_warning(name))
    names = [name for name in names if valid_name(name)]
    if names:
        (root / "profiles").mkdir(parents=True, exist_ok=True)
        (root / "profiles" / "index.html").write_text(
            profiles_index(store, lambda n: f"{quote(n)}/index.html", names), encoding="utf-8")
    for name in names:
        page = profile_page(store, name, feed_href=f"../../feeds/profiles/{quote(name)}.atom", home_href="../../")
        paper_url = (lambda pid: f"{base_url.rstrip('/')}/papers/{quote(pid, safe=':')}/") if base_url else \
            (lambda pid: f"https://arxiv.org/abs/{pid.split(':', 1)[1]}" if pid.startswith("arxiv:")
             else f"urn:paperlens:{quote(pid, safe=':')}")
        for target, content in ((root / "profiles" / name / "index.html", page.encode("utf-8")),
                                (root / "feeds" / "profiles" / f"{name}.atom",
                                 profile_feed(store, name, base_url or ".", paper_url))):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            written.append(target)
    return written


def add_profile_routes(app, store: Store, db_path: str, token: str | None, base_of) -> None:
    """GET /profiles/NAME/ and /feeds/profiles/NAME.atom (read-only, like every page); POST
    /api/profiles/NAME/feedback {"paper": ID, "label": "up"|"down"|"clear"} behind the write token (👍/👎)."""
    lock = threading.Lock()
    state: dict[str, Store] = {}

    def known(name: str) -> bool:
        try:
            return store.profile_get(name) is not None
        except sqlite3.OperationalError:  # a database made before profiles (migration 6): none yet
            return False

    def missing(name: str) -> Response:
        return HTMLResponse(f"<!doctype html><title>not found</title><p>no profile {escape(name)!s}</p>",
                            status_code=404)

    @app.api_route("/profiles/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def profiles_html():
        return HTMLResponse(profiles_index(store))

    @app.api_route("/profiles/{name}/", methods=["GET", "HEAD"], response_class=HTMLResponse,
                   include_in_schema=False)
    def profile_html(request: Request, name: str):
        if not known(name):
            return missing(name)
        # 👍/👎 only where writes are possible at all: a server without a token renders the read-only page.
        lang = pick_lang(request.query_params.get("lang"), request.cookies.get("lang")) if token else None
        return HTMLResponse(profile_page(store, name, feed_href=f"/feeds/profiles/{quote(name)}.atom",
                                         feedback_lang=lang))

    @app.api_route("/feeds/profiles/{name}.atom", methods=["GET", "HEAD"], include_in_schema=False)
    def profile_atom(request: Request, name: str):
        if not known(name):
            return missing(name)
        return Response(profile_feed(store, name, base_of(request)), media_type="application/atom+xml; charset=utf-8")

    @app.post("/api/profiles/{name}/feedback", tags=["write"],
              summary="Mark a paper 👍/👎 for a profile (needs the write token)",
              response_model=ProfileFeedback, responses={
                  400: {"model": ApiError, "description": 'Not {"paper": ID, "label": "up" | "down" | "clear"}'},
                  401: {"model": ApiError, "description": "No or a wrong bearer token"},
                  403: {"model": ApiError, "description": "Writing is off (no write token configured)"},
                  404: {"model": ApiError, "description": "No such profile or paper"},
                  507: {"model": ApiError, "description": "The database cannot be written (read-only or full)"}})
    async def profile_feedback(request: Request, name: str):
        problem = check_write_token(request.headers.get("authorization"), token)
        if problem is not None:
            status, reason = problem
            headers = {"www-authenticate": 'Bearer realm="paperlens"'} if status == 401 else None
            return JSONResponse({"error": reason, "status": status}, status_code=status, headers=headers)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("paper"), str) \
                or body.get("label") not in ("up", "down", "clear"):
            return JSONResponse({"error": 'send {"paper": ID, "label": "up" | "down" | "clear"}', "status": 400},
                                status_code=400)

        def run() -> JSONResponse:
            from paperlens.recommend.profiles import ProfileError, mark

            with lock:
                if "store" not in state:
                    state["store"] = Store(db_path)
                try:
                    done = mark(state["store"], name, body["paper"], 1 if body["label"] == "up" else -1,
                                clear=body["label"] == "clear")
                except ProfileError as exc:
                    return JSONResponse({"error": str(exc), "status": 404}, status_code=404)
            return JSONResponse({"profile": name, "paper": body["paper"], "label": body["label"], "done": done})

        try:
            return await run_in_threadpool(run)
        except sqlite3.DatabaseError as exc:
            message = db_error_message(exc, Path(db_path).name)
            if message is None:
                raise
            return JSONResponse({"error": message, "status": 507}, status_code=507)
