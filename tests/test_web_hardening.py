"""Web hardening: read-only by default, writes behind a bearer token, body and time limits, security
headers on every response (errors and static files too), static export confined to its directory,
hostile search input never a 500."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlens.store import Store
from paperlens.web import pages
from paperlens.web.app import create_app
from paperlens.web.guard import check_write_token, write_token_from_env
from paperlens.web.site import export_site
from paperlens.web.write import upload_name

from .web_corpus import build_web_db

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token-5b1f0c"
UPLOAD = "\n".join(json.dumps({"id": f"upload:{i}", "title": f"Uploaded Paper About Narwhals {i}",
                               "abstract": f"Narwhal tusks number {i} are measured with care.", "sources": [],
                               "summary": {}, "topic": None}) for i in range(3))


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build_web_db(tmp_path_factory.mktemp("hardening"), seeds=("000", "001"))


@pytest.fixture
def fresh_db(tmp_path):
    return build_web_db(tmp_path, seeds=("000",))


def _headers_ok(response) -> None:
    assert "default-src 'self'" in response.headers.get("content-security-policy", ""), response.headers
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy")


def _count(db_path: Path) -> int:
    store = Store(db_path, readonly=True)
    try:
        return store.count()
    finally:
        store.close()


# -- writes ---------------------------------------------------------------------------------------------


def test_server_is_read_only_unless_a_token_is_configured(fresh_db, monkeypatch):
    monkeypatch.delenv("PAPERLENS_WRITE_TOKEN", raising=False)
    before = _count(fresh_db)
    with TestClient(create_app(str(fresh_db))) as client:
        for auth in ({}, {"authorization": "Bearer anything"}, {"authorization": "Bearer "}):
            r = client.post("/api/ingest?name=x.jsonl", content=UPLOAD, headers=auth)
            assert r.status_code == 403 and "read-only" in r.json()["error"]
            _headers_ok(r)
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            r = client.request(method, "/")
            assert r.status_code == 405
            _headers_ok(r)
    assert _count(fresh_db) == before
    monkeypatch.setenv("PAPERLENS_WRITE_TOKEN", "   ")  # blank never means "no token needed"
    assert write_token_from_env() is None
    assert check_write_token("Bearer ", None)[0] == 403


def test_ingest_endpoint_needs_the_bearer_token_and_stores_papers(fresh_db):
    before = _count(fresh_db)
    with TestClient(create_app(str(fresh_db), write_token=TOKEN)) as client:
        for auth in ({}, {"authorization": "Bearer wrong"}, {"authorization": f"Basic {TOKEN}"},
                     {"authorization": TOKEN}, {"authorization": f"Bearer {TOKEN}x"}):
            r = client.post("/api/ingest?name=x.jsonl", content=UPLOAD, headers=auth)
            assert r.status_code == 401, auth
            assert r.headers["www-authenticate"].startswith("Bearer")
            _headers_ok(r)
        assert _count(fresh_db) == before
        bad_line = UPLOAD + "\n{broken json\n"
        r = client.post("/api/ingest", params={"name": "../../etc/narwhals.jsonl"}, content=bad_line,
                        headers={"authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200, r.text
        data = r.json()
        assert (data["new"], data["rejected"], data["file"]) == (3, 1, "narwhals.jsonl")
        assert data["rejections"] == [{"line": 4, "message": data["rejections"][0]["message"]}]
        assert "invalid JSON" in data["rejections"][0]["message"] and "/tmp" not in r.text
        time.sleep(1.1)  # the catalog looks at the database at most once a second
        assert "/papers/upload:2" in client.get("/search?q=narwhal").text
        again = client.post("/api/ingest?name=x.jsonl", content=UPLOAD, headers={"authorization": f"Bearer {TOKEN}"})
        assert again.json()["unchanged"] == 3
        nothing = client.post("/api/ingest?name=x.txt", content="no format at all\n",
                              headers={"authorization": f"Bearer {TOKEN}"})
        assert nothing.status_code == 400 and "x.txt:1: unknown format" in nothing.json()["errors"][0]
        unknown = client.post("/api/ingest?format=nope", content=UPLOAD, headers={"authorization": f"Bearer {TOKEN}"})
        assert unknown.status_code == 400
    assert _count(fresh_db) == before + 3


def test_upload_names_cannot_leave_the_temporary_directory():
    for hostile in ("../../x.jsonl", "/etc/passwd", "..\\..\\win.csv", "a/b/../../c.bib", "", "..", ".jsonl",
                    "x" * 500 + ".csv", "名字.jsonl", "\x00.csv"):
        name = upload_name(hostile)
        assert name and "/" not in name and "\\" not in name and not name.startswith(".") and len(name) < 100


# -- limits ---------------------------------------------------------------------------------------------


def test_oversized_bodies_get_413_before_anything_is_stored(fresh_db):
    before = _count(fresh_db)
    with TestClient(create_app(str(fresh_db), write_token=TOKEN, max_body=2000)) as client:
        auth = {"authorization": f"Bearer {TOKEN}"}
        big = UPLOAD + "\n" + " " * 3000
        r = client.post("/api/ingest?name=x.jsonl", content=big, headers=auth)
        assert r.status_code == 413
        _headers_ok(r)

        def chunks():  # no Content-Length: the limit must count the bytes as they arrive
            for _ in range(10):
                yield b" " * 500

        r = client.post("/api/ingest?name=x.jsonl", content=chunks(), headers=auth)
        assert r.status_code == 413, r.text
        _headers_ok(r)
        r = client.post("/api/ingest?name=x.jsonl", content=UPLOAD, headers=auth)
        assert r.status_code == 200
        r = client.get("/", headers={"content-length": "999999999"})
        assert r.status_code == 413
    assert _count(fresh_db) == before + 3


def test_slow_handler_is_cut_off_with_503(db, monkeypatch):
    import paperlens.web.app as web_app

    real_search, real_feed = web_app.run_search, pages.feed_context

    def slow_search(*args, **kwargs):  # a handler in the thread pool: answered at the deadline
        time.sleep(3)
        return real_search(*args, **kwargs)

    def slow_feed(*args, **kwargs):  # a handler on the event loop: its late page is replaced
        time.sleep(1.5)
        return real_feed(*args, **kwargs)

    monkeypatch.setattr(web_app, "run_search", slow_search)
    monkeypatch.setattr(pages, "feed_context", slow_feed)
    with TestClient(create_app(str(db), request_timeout=0.5, cache_size=0)) as client:
        started = time.monotonic()
        r = client.get("/api/search?q=memory")
        assert r.status_code == 503 and time.monotonic() - started < 2.5
        _headers_ok(r)
        r = client.get("/feed")
        assert r.status_code == 503 and "<html" not in r.text
        _headers_ok(r)
        assert client.get("/api/topics").status_code == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(db):
    """`paperlens serve` in its own process, writes on (token from a named variable), 1 s request limit."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HARDENING_TOKEN": TOKEN}
    env.pop("PAPERLENS_WRITE_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-c", "from paperlens.cli import main; main(prog_name='paperlens')",
                             "--db", str(db), "serve", "--port", str(port), "--write-token-env", "HARDENING_TOKEN",
                             "--request-timeout", "1", "--max-body", "100000"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"server did not start: {proc.stderr.read() if proc.stderr else ''}")
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}", port
    proc.terminate()
    proc.wait(timeout=30)


def test_slow_client_body_is_cut_off_with_408(live_server):
    _, port = live_server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /api/ingest?name=x.jsonl HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                     b"Authorization: Bearer " + TOKEN.encode() + b"\r\n\r\n{\"id\":")
        started = time.monotonic()
        answer = sock.recv(4096).decode("latin-1")
        assert answer.startswith("HTTP/1.1 408"), answer
        assert time.monotonic() - started < 5
        assert "content-security-policy" in answer.lower()


def test_real_server_takes_the_token_from_the_named_variable(live_server):
    base, _ = live_server
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.post("/api/ingest?name=x.jsonl", content=UPLOAD).status_code == 401
        r = client.post("/api/ingest?name=x.jsonl", content=UPLOAD, headers={"authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200 and r.json()["new"] + r.json()["unchanged"] == 3
        r = client.post("/api/ingest?name=x.jsonl", content=b"x" * 200_000, headers={"authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 413
        _headers_ok(r)


# -- headers --------------------------------------------------------------------------------------------


def test_security_headers_on_errors_static_files_and_crashes(db, monkeypatch):
    with TestClient(create_app(str(db), write_token=TOKEN), raise_server_exceptions=False) as client:
        for method, url in (("GET", "/static/style.css"), ("HEAD", "/"), ("GET", "/static/nope.css"),
                            ("GET", "/papers/nope"), ("GET", "/feed?page=-1"), ("POST", "/api/topics"),
                            ("GET", "/api/papers?limit=abc"), ("POST", "/api/ingest")):
            _headers_ok(client.request(method, url))

        def crash(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(pages, "trends_context", crash)
        r = client.get("/trends")
        assert r.status_code == 500 and "boom" not in r.text and "Traceback" not in r.text
        _headers_ok(r)


# -- static export --------------------------------------------------------------------------------------

HOSTILE_NAMES = ["../../x", "/etc/passwd", "..", "a/../../b", "C:\\evil", "\x00nul", "~root", ".hidden"]


def _hostile_db(tmp_path: Path) -> Path:
    from paperlens.core.models import Paper, Topic

    db = tmp_path / "hostile.db"
    store = Store(db)
    store.ingest([Paper(id=name, title=f"Hostile Name {i} Paper", abstract=f"About hostile path number {i}.",
                        authors=[name, f"../{name}"], keywords=[name, "../../k"],
                        topic=Topic(area=name, label=name))
                  for i, name in enumerate(HOSTILE_NAMES)])
    store.close()
    return db


def test_static_export_with_hostile_ids_and_names_stays_inside(tmp_path):
    db = _hostile_db(tmp_path)
    out = tmp_path / "deep" / "site"

    def outside_files() -> list[Path]:  # the database's own files (-wal, -shm) come and go with reading
        return sorted(p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(out)
                      and not p.name.startswith("hostile.db"))

    outside_before = outside_files()
    n = export_site(Store(db, readonly=True), out)
    assert n == len(HOSTILE_NAMES)
    assert outside_files() == outside_before
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))
    assert not Path("/etc/passwd").is_relative_to(out) and not (tmp_path / "x").exists()
    assert len(list((out / "papers").iterdir())) == len(HOSTILE_NAMES)  # one page each, none overwritten


@pytest.mark.parametrize("where", ["papers", "index.html", "static"])
def test_static_export_does_not_follow_symlinks_out_of_the_target(tmp_path, where):
    db = _hostile_db(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    out = tmp_path / "site"
    out.mkdir()
    target = outside / "index.html" if where == "index.html" else outside
    (out / where).symlink_to(target)
    with pytest.raises(ValueError):
        export_site(Store(db, readonly=True), out)
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    assert (outside / "keep.txt").read_text() == "mine"


# -- hostile search -------------------------------------------------------------------------------------

HOSTILE_QUERIES = ['"', '""', "'", "a OR", "NEAR(a b", "title:x", "x*", "*", "^a", "a AND NOT", "(", ")", "{a}",
                   "a:b:c", "'; DROP TABLE papers; --", "\x00", "\\", "%", "_", "-", "+", "NOT", "AND", "OR",
                   "x" * 5000, "attention\" OR 1=1 --", "col:*", "papers_fts MATCH 'x'", "a\nb", "\u202e", "🙂",
                   "注意力 OR", "[[", "$$"]
SEARCH_URLS = ["/search", "/api/search", "/feeds/search.atom"]


@pytest.mark.parametrize("url", SEARCH_URLS)
def test_hostile_search_queries_never_fail(db, url):
    with TestClient(create_app(str(db)), raise_server_exceptions=False) as client:
        for q in HOSTILE_QUERIES:
            for extra in ({}, {"format": "bibtex"} if url == "/search" else {}, {"year": "2024"}, {"page": "2"}):
                r = client.get(url, params={"q": q, **extra})
                allowed = (200, 400, 404) if "page" in extra else (200, 400)  # 404: page past the last
                assert r.status_code in allowed, (url, q, extra, r.status_code, r.text[:300])
                _headers_ok(r)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(q=st.lists(st.one_of(st.sampled_from(HOSTILE_QUERIES + ["attention", "model", "memory"]),
                            st.text(max_size=20)), max_size=4).map(" ".join))
def test_any_search_text_gives_200_or_400(db, q):
    client = _shared_client(db)
    for url in ("/search", "/api/search"):
        r = client.get(url, params={"q": q})
        assert r.status_code in (200, 400), (url, q, r.status_code)
        if url == "/api/search" and r.status_code == 200:
            for hit in r.json()["results"]:
                assert client.get(f"/api/papers/{hit['id']}").status_code == 200


_CLIENTS: dict[str, TestClient] = {}


def _shared_client(db: Path) -> TestClient:
    if str(db) not in _CLIENTS:
        _CLIENTS[str(db)] = TestClient(create_app(str(db)), raise_server_exceptions=False)
    return _CLIENTS[str(db)]


def test_search_api_answers_are_cached_until_the_database_changes(fresh_db):
    import paperlens.web.app as web_app

    calls = []
    real = web_app.run_search

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    web_app.run_search = counted
    try:
        with TestClient(create_app(str(fresh_db), write_token=TOKEN, cache_size=64)) as client:
            first = client.get("/api/search?q=narwhal")
            assert first.json()["total"] == 0 and "x-pl-cacheable" not in first.headers
            assert client.get("/api/search?q=narwhal").json() == first.json() and len(calls) == 1
            client.post("/api/ingest?name=x.jsonl", content=UPLOAD, headers={"authorization": f"Bearer {TOKEN}"})
            time.sleep(1.1)
            assert client.get("/api/search?q=narwhal").json()["total"] == 3 and len(calls) == 2
    finally:
        web_app.run_search = real
