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
