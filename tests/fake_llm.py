"""A small OpenAI-compatible server for tests and benchmarks: answers POST /v1/chat/completions.

What it answers is chosen per request by markers in the paper title inside the prompt:
  [[malformed]]       never valid JSON (so the repair request fails too)
  [[malformed-once]]  invalid JSON first, a valid answer to the repair request
  [[placeholder]]     JSON whose fields are "N/A"
  [[null-topic]]      a valid digest whose "topic" is null
  [[odd-topic]]       a valid digest whose "topic" is a label outside the taxonomy ("Robotics")
  [[fail-zh]]         invalid JSON whenever the Chinese digest is asked for
  [[429]]             first request 429 with Retry-After: 1
  [[500]]             first request HTTP 500
  [[down]]            always HTTP 503
  [[length]]          answers cut off, finish_reason "length"
  [[slow]]            first request answered after `slow_seconds` (beyond the client's timeout)
  [[rel=N]]           (relevance requests) the relevance N out of 10
anything else gets a valid digest derived from the title. A relevance request (the reader's interests in
<reader_interests> tags, recommend/relevance.py) gets {"relevance": 5, "reason": ...} unless [[rel=N]] says
otherwise; [[malformed]] and [[placeholder]] spoil it the same way, and the status markers count these
requests apart from the digest ones (kind "relevance"). `relevance_by_title` (title -> a score, or
"malformed", "placeholder", 500) does the same for titles without markers (a test picks them after ranking). `reject_response_format` makes it answer 400 to
any request carrying `response_format`, like servers without structured output. It counts every request.

Run standalone (for bench/llm.py): python tests/fake_llm.py --port 0 --latency 0.2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FALLBACK_LABELS = ["指令微调与对齐", "推理与思维链", "效率与压缩", "Agent 与工具使用", "多模态基础模型", "模型架构",
                   "LLM 预训练"]


class FakeLLM:
    def __init__(self, latency: float = 0.0, reject_response_format: bool = False, slow_seconds: float = 2.0):
        self.latency = latency
        self.reject_response_format = reject_response_format
        self.slow_seconds = slow_seconds
        self.relevance_by_title: dict[str, int | str] = {}
        self.lock = threading.Lock()
        self.requests: list[dict] = []  # every request received, in arrival order
        self.served = 0  # responses completely written
        self.in_flight = 0
        self.max_in_flight = 0
        self._seen: Counter = Counter()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # clients killed mid-request are expected
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> FakeLLM:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every request, as if freshly started (markers like [[500]] fire again)."""
        with self.lock:
            self.requests.clear()
            self._seen.clear()
            self.served = 0
            self.max_in_flight = self.in_flight

    def summary_requests(self) -> Counter:
        """(title, lang) -> how many first-try (non-repair) requests got an answer other than a 400."""
        return Counter((r["title"], r["lang"]) for r in self.requests if r["kind"] == "summary" and r["status"] != 400)

    # -- answering ----------------------------------------------------------------------------
    def answer(self, body: dict) -> tuple[int, dict, dict]:
        """(status, headers, json body) for one request."""
        messages = body.get("messages") or []
        user = next((m["content"] for m in messages if m.get("role") == "user"), "")
        title = (re.search(r"^Title: (.*)$", user, re.MULTILINE) or [None, ""])[1]
        lang = "zh" if "Chinese" in (re.search(r"structured digest of the paper below in ([^\n.]*)", user)
                                      or [None, ""])[1] else "en"
        kind = "repair" if messages and messages[-1].get("role") == "user" and "invalid" in messages[-1]["content"] \
            and len(messages) > 2 else "summary"
        if "<reader_interests>" in user:
            kind = lang = "relevance"
        with self.lock:
            self._seen[(title, lang)] += 1
            nth = self._seen[(title, lang)]
            record = {"title": title, "lang": lang, "kind": kind, "response_format": "response_format" in body,
                      "at": time.monotonic(), "status": 200, "model": body.get("model"),
                      "system": next((m["content"] for m in messages if m.get("role") == "system"), ""),
                      "user": user}
            self.requests.append(record)

        def status(code: int, headers: dict | None = None, message: str = "error") -> tuple[int, dict, dict]:
            record["status"] = code
            return code, headers or {}, {"error": {"message": message, "type": "fake_error"}}

        if self.reject_response_format and "response_format" in body:
            return status(400, message="response_format of type json_schema is not supported by this model")
        override = self.relevance_by_title.get(title) if kind == "relevance" else None
        if override == 500:
            return status(500, message="internal error")
        if "[[429]]" in title and nth == 1:
            return status(429, {"Retry-After": "1"}, "rate limited")
        if "[[down]]" in title:
            return status(503, message="service unavailable")
        if "[[500]]" in title and nth == 1:
            return status(500, message="internal error")
        if "[[slow]]" in title and nth == 1:
            time.sleep(self.slow_seconds)
        if self.latency:
            time.sleep(self.latency)
        labels = _labels(body, user)
        if kind == "relevance":
            content = _relevance(title, override)
        elif "[[malformed]]" in title or ("[[fail-zh]]" in title and lang == "zh") or \
                ("[[malformed-once]]" in title and kind == "summary"):
            content = '{"tldr": "cut off in the middle'
        elif "[[placeholder]]" in title:
            content = json.dumps({k: "N/A" for k in ("tldr", "motivation", "problem", "observation", "method",
                                                     "experiments", "contribution")} | {"keywords": ["N/A"],
                                                                                        "topic": labels[0]})
        else:
            digest = _digest(title, lang, labels)
            if "[[null-topic]]" in title:
                digest["topic"] = None
            elif "[[odd-topic]]" in title:
                digest["topic"] = "Robotics"
            content = json.dumps(digest, ensure_ascii=False)
            if "response_format" not in body:  # plain-JSON mode: models like to wrap it in a fence
                content = f"```json\n{content}\n```"
        finish_reason = "stop"
        if "[[length]]" in title:
            content, finish_reason = content[:40], "length"
        prompt_chars = sum(len(m.get("content") or "") for m in messages)
        return 200, {}, {
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "finish_reason": finish_reason,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt_chars // 4, "completion_tokens": len(content) // 4,
                      "total_tokens": prompt_chars // 4 + len(content) // 4},
        }

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body leave in one write with Nagle off: no delayed-ACK stalls on keep-alive
            wbufsize = -1
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/") != "/stats":
                    self._send(404, {}, {"error": {"message": "not found"}})
                    return
                with fake.lock:
                    payload = {"requests": len(fake.requests), "served": fake.served,
                               "in_flight": fake.in_flight, "max_in_flight": fake.max_in_flight}
                self._send(200, {}, payload)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if not raw or len(raw) < length:
                    # The client died while sending (the resume test kills it): nothing was asked.
                    self.close_connection = True
                    return
                body = json.loads(raw)
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {}, {"error": {"message": "not found"}})
                    return
                with fake.lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    code, headers, payload = fake.answer(body)
                    self._send(code, headers, payload)
                except (BrokenPipeError, ConnectionResetError):
                    return
                finally:
                    with fake.lock:
                        fake.in_flight -= 1
                with fake.lock:
                    fake.served += 1

            def _send(self, code: int, headers: dict, payload: dict) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _labels(body: dict, user: str) -> list[str]:
    try:
        return body["response_format"]["json_schema"]["schema"]["properties"]["topic"]["enum"]
    except (KeyError, TypeError):
        pass
    found = re.search(r"copied verbatim: (.*)$", user, re.MULTILINE)
    return [s.strip() for s in found[1].split("|")] if found else FALLBACK_LABELS


def _relevance(title: str, override: int | str | None = None) -> str:
    if "[[malformed]]" in title or override == "malformed":
        return '{"relevance": 9, "reason": "cut off'
    if "[[placeholder]]" in title or override == "placeholder":
        return json.dumps({"relevance": 7, "reason": "N/A"})
    wanted = re.search(r"\[\[rel=(\d+)\]\]", title)
    score = override if isinstance(override, int) else int(wanted[1]) if wanted else 5
    return json.dumps({"relevance": score, "reason": f"judged {score} for {title[:40]}"})


def _digest(title: str, lang: str, labels: list[str]) -> dict:
    topic = labels[int(hashlib.sha256(title.encode()).hexdigest(), 16) % len(labels)]
    if lang == "zh":
        return {"tldr": f"本文提出{title}并验证其效果。", "motivation": f"{title}所针对的问题很重要。",
                "problem": f"现有方法难以处理{title}。", "observation": f"作者发现{title}中存在规律。",
                "method": f"提出了{title}方法。", "experiments": f"在多个基准上评测{title}。",
                "contribution": f"贡献在于{title}。", "keywords": [f"{title} 方法", "实验"], "topic": topic}
    return {"tldr": f"The paper proposes {title} and evaluates it.", "motivation": f"Why {title} matters.",
            "problem": f"Existing methods struggle with {title}.", "observation": f"The authors observe a pattern in {title}.",
            "method": f"A method named {title}.", "experiments": f"Benchmarks evaluating {title}.",
            "contribution": f"The contribution is {title}.", "keywords": [f"{title} method", "evaluation"],
            "topic": topic}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    fake = FakeLLM(latency=args.latency)
    print(fake.base_url, flush=True)  # GET /stats (beside /v1) gives the request counters
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
