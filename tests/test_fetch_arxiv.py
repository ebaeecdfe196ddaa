"""`paperlens fetch arxiv` against a real HTTP server on 127.0.0.1 replaying a saved Atom response."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner

from paperlens.cli import main
from paperlens.sources.arxiv_atom import fetch_arxiv

from .conftest import FIXTURES

SAVED = (FIXTURES / "arxiv_api_response.xml").read_text(encoding="utf-8")
ENTRIES = re.findall(r"  <entry>.*?</entry>\n", SAVED, flags=re.S)
HEAD, TAIL = SAVED.split(ENTRIES[0])[0], "</feed>\n"


def page(start: int, size: int) -> str:
    return HEAD + "".join(ENTRIES[start:start + size]) + TAIL


@pytest.fixture
def arxiv_api():
    requests: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            requests.append(query)
            if url.path != "/api/query" or "search_query" not in query:
                self.send_error(400, "bad query")
                return
            body = page(int(query.get("start", 0)), int(query.get("max_results", 10))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/query", requests
    server.shutdown()
    server.server_close()


def test_fetch_command_ingests_the_results(arxiv_api, tmp_path):
    url, requests = arxiv_api
    db = tmp_path / "fetch.db"
    result = CliRunner().invoke(main, ["--db", str(db), "fetch", "arxiv", "cat:cs.IR AND abs:retrieval",
                                       "--max", "10", "--base-url", url])
    assert result.exit_code == 0, result.output
    assert "new: 4  merged: 0  unchanged: 0  rejected: 0" in result.output
    assert requests == [{"search_query": "cat:cs.IR AND abs:retrieval", "start": "0", "max_results": "10"}]
    saved = sorted((tmp_path / "fetched").glob("arxiv-*.xml"))
    assert len(saved) == 1 and saved[0].read_text(encoding="utf-8") == page(0, 10)
    shown = CliRunner().invoke(main, ["--db", str(db), "show", "arxiv:2502.04567", "--json"])
    assert '"venue": "Proc. Example Workshop on Search (2025) 12-20"' in shown.output
    again = CliRunner().invoke(main, ["--db", str(db), "fetch", "arxiv", "retrieval", "--base-url", url])
    # the same papers seen again in a second response: nothing new, each now cites both responses, and
    # the papers themselves did not change (issue 13: a copy that adds nothing is "unchanged", not "merged")
    assert "new: 0  merged: 0  unchanged: 4" in again.output and len(list((tmp_path / "fetched").glob("*.xml"))) == 2
    shown = CliRunner().invoke(main, ["--db", str(db), "show", "arxiv:2502.04567", "--json"])
    assert shown.output.count('"source": "arxiv-atom"') == 2


def test_fetch_pages_until_max_or_the_end(arxiv_api, tmp_path):
    url, requests = arxiv_api
    paths = fetch_arxiv("all:retrieval", 3, base_url=url, save_dir=tmp_path, page_size=2, delay=0)
    assert [(r["start"], r["max_results"]) for r in requests] == [("0", "2"), ("2", "1")]
    assert len(paths) == 2
    requests.clear()
    fetch_arxiv("all:retrieval", 100, base_url=url, save_dir=tmp_path / "all", page_size=2, delay=0)
    assert [r["start"] for r in requests] == ["0", "2"]  # totalResults is 4: no third call


def test_fetch_reports_an_unreachable_or_failing_api(arxiv_api, tmp_path):
    url, _ = arxiv_api
    db = tmp_path / "x.db"
    bad = CliRunner().invoke(main, ["--db", str(db), "fetch", "arxiv", "q", "--base-url", url.replace("/api/query", "/nope")])
    assert bad.exit_code != 0 and "answered HTTP 400" in bad.output
    down = CliRunner().invoke(main, ["--db", str(db), "fetch", "arxiv", "q", "--base-url", "http://127.0.0.1:9/api"])
    assert down.exit_code != 0 and "cannot reach http://127.0.0.1:9/api" in down.output


LISTING = (FIXTURES / "arxiv_listing_rss.xml").read_bytes()


@pytest.fixture
def arxiv_listing():
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            requests.append(self.path)
            if self.path == "/rss/cs.CL":
                body = LISTING
            elif self.path == "/rss/cs.DL":  # a day without announcements
                body = re.sub(rb"<item>.*</item>\s*", b"", LISTING, flags=re.S)
            else:
                self.send_error(404, "no such feed")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/rss", requests
    server.shutdown()
    server.server_close()


def test_fetch_new_reads_the_listing_feed(arxiv_listing, tmp_path):
    url, requests = arxiv_listing
    db = tmp_path / "new.db"
    result = CliRunner().invoke(main, ["--db", str(db), "fetch", "arxiv", "--category", "cs.CL", "--new",
                                       "--feed-url", url])
    assert result.exit_code == 0, result.output
    assert requests == ["/rss/cs.CL"]
    assert "skipped 1 replaced paper(s)" in result.output and "new: 2  merged: 0" in result.output
    saved = sorted((tmp_path / "fetched").glob("arxiv-listing-cs.CL-*.xml"))
    assert len(saved) == 1 and saved[0].read_bytes() == LISTING
    shown = CliRunner().invoke(main, ["--db", str(db), "show", "arxiv:2612.00042", "--json"])
    assert '"source": "arxiv-rss"' in shown.output and '"announce_type": "cross"' in shown.output
    missing = CliRunner().invoke(main, ["--db", str(db), "show", "arxiv:2405.01234"])
    assert missing.exit_code != 0
    again = CliRunner().invoke(main, ["--db", str(db), "fetch", "arxiv", "--category", "cs.CL", "--new", "--replaced",
                                      "--feed-url", url])
    # the two papers already stored come again in a new saved file: cited, otherwise unchanged
    assert again.exit_code == 0 and "new: 1  merged: 0  unchanged: 2" in again.output


def test_fetch_new_without_announcements_or_category(arxiv_listing, tmp_path):
    url, _ = arxiv_listing
    db = tmp_path / "empty.db"
    empty = CliRunner().invoke(main, ["--db", str(db), "fetch", "arxiv", "--category", "cs.DL", "--new",
                                      "--feed-url", url])
    assert empty.exit_code == 1 and "no papers found" in empty.output
    none = CliRunner().invoke(main, ["--db", str(db), "fetch", "arxiv", "--new", "--feed-url", url])
    assert none.exit_code != 0 and "--new needs at least one --category" in none.output
    gone = CliRunner().invoke(main, ["--db", str(db), "fetch", "arxiv", "--category", "cs.XX", "--new",
                                     "--feed-url", url])
    assert gone.exit_code != 0 and "answered HTTP 404" in gone.output


def test_fetch_category_without_new_searches_the_api(arxiv_api, tmp_path):
    url, requests = arxiv_api
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "c.db"), "fetch", "arxiv", "--category", "cs.IR",
                                       "retrieval", "--base-url", url])
    assert result.exit_code == 0, result.output
    assert requests[0]["search_query"] == "cat:cs.IR AND (retrieval)"
