"""llm-summary against endpoints that misbehave at the HTTP level: a body that never ends, answers that are
not chat completions. A failed paper is recorded failed with the reason, in bounded time; nothing is made up."""

from __future__ import annotations

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from paperlens.enrich.llm import client as llm_client
from paperlens.enrich.llm.step import LLMSummaryStep
from paperlens.enrich.runner import run_step

from .llm_helpers import fake_settings, make_papers


class Hostile:
    """POST /v1/chat/completions answered the way `mode` says."""

    def __init__(self, mode: str):
        self.mode, self.requests, self.sent = mode, 0, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests += 1
                try:
                    outer.answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        if self.mode == "drip":  # headers, then one byte every 0.2 s: no single read ever times out
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "100000")
            handler.end_headers()
            for _ in range(100000):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.2)
            return
        if self.mode in ("throttle", "throttle-ms"):  # rate limited, come back in 11.6 days
            body = json.dumps({"error": {"message": "rate limited", "type": "rate_limit"}}).encode()
            handler.send_response(429)
            handler.send_header("Content-Type", "application/json")
            if self.mode == "throttle":
                handler.send_header("Retry-After", "999999")
            else:
                handler.send_header("Retry-After-Ms", "999999000")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        if self.mode in ("huge", "declared"):  # a chat completion whose content never ends (200 MB offered)
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            if self.mode == "declared":
                handler.send_header("Content-Length", str(200 * 2**20))
            else:
                handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            head = b'{"id": "x", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop", ' \
                   b'"message": {"role": "assistant", "content": "'
            chunk = b"a" * 2**20
            for part in [head] + [chunk] * 200:
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(part), part) if self.mode == "huge" else part)
                handler.wfile.flush()
                self.sent += len(part)
            return
        if self.mode == "gzip":  # 100 KB on the wire, 100 MB once decompressed
            content = json.dumps({"id": "x", "object": "chat.completion", "choices": [{
                "index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "a" * 10**8}}]})
            body = gzip.compress(content.encode(), compresslevel=9)
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Encoding", "gzip")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            self.sent += len(body)
            return
        body, kind = {"html": (b"<html><body>Sign in to the proxy</body></html>", "text/html"),
                      "shape": (json.dumps({"choices": "nope", "usage": "many"}).encode(), "application/json"),
                      "nochoices": (json.dumps({"result": "hello"}).encode(), "application/json"),
                      "badjson": (b'{"choices": [oops', "application/json")}[self.mode]
        handler.send_response(200)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile(request):
    llm_client.PLAIN_JSON_ENDPOINTS.clear()
    server = Hostile(request.param)
    yield server
    server.stop()


@pytest.mark.parametrize("hostile", ["drip"], indirect=True)
def test_a_body_that_never_ends_times_out_and_is_retried_within_bounds(store, hostile):
    # The SDK's timeout is per read: a server dripping a byte every 0.2 s held the run forever.
    store.ingest(make_papers(["Dripping Endpoint"]))
    settings = fake_settings(hostile.base_url, timeout=1, max_retries=1)
    started = time.monotonic()
    report = run_step(store, LLMSummaryStep(settings, ["en"]))
    assert time.monotonic() - started < 15
    row = store.enrichments_for("p000")["llm-summary"]
    assert report.failed == 1 and row["output"] is None
    assert "gave up after 2 attempts: request timed out" in row["error"] and hostile.requests == 2


@pytest.mark.parametrize("hostile", ["html", "shape", "nochoices", "badjson"], indirect=True)
def test_an_answer_that_is_not_a_chat_completion_fails_with_the_reason(store, hostile):
    # An HTML page (a proxy's sign-in) came back from the SDK as a str, JSON of another shape as an
    # unchecked object: "AttributeError: 'str' object has no attribute 'usage'", and no ledger row; a JSON
    # content type with a broken body: "JSONDecodeError: Expecting value", no ledger row either.
    store.ingest(make_papers(["Proxy Page", "Other One"]))
    report = run_step(store, LLMSummaryStep(fake_settings(hostile.base_url), ["en"]))
    assert report.failed == 2
    for pid in ("p000", "p001"):
        row = store.enrichments_for(pid)["llm-summary"]
        assert row["output"] is None and "not a chat completion" in row["error"], row["error"]
        assert "AttributeError" not in row["error"]
    assert hostile.requests == 2  # not retried: it will not get better
    statuses = [r[0] for r in store.conn.execute("SELECT status FROM llm_usage")]
    assert statuses == ["error", "error"]


@pytest.mark.parametrize("hostile", ["huge", "declared", "gzip"], indirect=True)
def test_an_answer_over_the_size_limit_fails_its_paper_unread(store, hostile):
    # The SDK read a body whole into memory: a 10 MB content peaked near 950 MB at concurrency 8, a 1 GB
    # one crashed the run. Now at most PAPERLENS_LLM_MAX_RESPONSE_BYTES (as decoded) are read.
    store.ingest(make_papers(["Endless Answer"]))
    settings = fake_settings(hostile.base_url, max_response_bytes=2**20)
    started = time.monotonic()
    report = run_step(store, LLMSummaryStep(settings, ["en"]))
    assert time.monotonic() - started < 15
    row = store.enrichments_for("p000")["llm-summary"]
    assert report.failed == 1 and row["output"] is None
    assert "PAPERLENS_LLM_MAX_RESPONSE_BYTES=1048576" in row["error"], row["error"]
    assert hostile.requests == 1  # not retried: it would be as large again
    if hostile.mode == "huge":  # the client stopped reading: the rest of the 200 MB was never taken
        time.sleep(0.2)
        assert hostile.sent < 40 * 2**20, hostile.sent
    statuses = [r[0] for r in store.conn.execute("SELECT status FROM llm_usage")]
    assert statuses == ["error"]


def test_the_response_size_limit_is_a_setting(monkeypatch):
    monkeypatch.setenv("PAPERLENS_LLM_MAX_RESPONSE_BYTES", "65536")
    from paperlens.enrich.llm.settings import LLMSettings

    assert LLMSettings().max_response_bytes == 65536
    monkeypatch.delenv("PAPERLENS_LLM_MAX_RESPONSE_BYTES")
    assert LLMSettings().max_response_bytes == 4 * 2**20


@pytest.mark.parametrize("hostile", ["throttle", "throttle-ms"], indirect=True)
def test_a_retry_after_past_the_bound_fails_at_once_naming_the_wait(store, hostile):
    # Each wait was capped at 10 x backoff_max (600 s with the defaults): one paper took ~50 min over its
    # retries. A Retry-After over 2 x backoff_max (at least 2 s) now fails it at once; a later run retries it.
    store.ingest(make_papers(["Throttled Forever"]))
    settings = fake_settings(hostile.base_url, max_retries=2)
    started = time.monotonic()
    report = run_step(store, LLMSummaryStep(settings, ["en"]))
    assert time.monotonic() - started < 5
    row = store.enrichments_for("p000")["llm-summary"]
    assert report.failed == 1 and row["output"] is None
    assert "asked to wait 999999 s" in row["error"] and "HTTP 429" in row["error"], row["error"]
    assert hostile.requests == 1
    assert [r[0] for r in store.conn.execute("SELECT status FROM llm_usage")] == ["error"]
