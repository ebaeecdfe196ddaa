"""LLM enrichment throughput against the fake OpenAI-compatible server with simulated latency.

    PYTHONPATH=src python bench/llm.py --latency 0.2 --concurrency 1,8,32

Starts tests/fake_llm.py in its own process, then runs the real llm-summary step through the runner (real
SQLite store, real HTTP) at each concurrency and reports papers/minute, requests/s and requests in
flight. With a fixed latency L and concurrency C the ceiling is C / L requests per second; reaching it
shows the client is not the bottleneck."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from llm_helpers import fake_settings, make_papers  # noqa: E402

from paperlens.enrich.llm.step import LLMSummaryStep  # noqa: E402
from paperlens.enrich.runner import run_step  # noqa: E402
from paperlens.store import Store  # noqa: E402


def server_stats(base_url: str) -> dict:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/stats", timeout=5) as response:
        return json.load(response)


def bench(base_url: str, concurrency: int, papers: int, langs: list[str], batch_size: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        store.ingest(make_papers([f"Benchmark paper {concurrency}-{i}" for i in range(papers)]))
        step = LLMSummaryStep(fake_settings(base_url, concurrency=concurrency, timeout=30), langs)
        before = server_stats(base_url)
        start, cpu_start = time.perf_counter(), time.process_time()
        report = run_step(store, step, batch_size=batch_size)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        after = server_stats(base_url)
        store.close()
    requests = after["requests"] - before["requests"]
    return {"concurrency": concurrency, "papers": papers, "done": report.done, "failed": report.failed,
            "requests": requests, "seconds": round(seconds, 2),
            "papers_per_minute": round(report.done / seconds * 60, 1),
            "requests_per_second": round(requests / seconds, 1),
            "client_cpu_ms_per_request": round(cpu / max(1, requests) * 1000, 2),
            "max_in_flight_client": step.last_client.max_in_flight if step.last_client else 0,
            "max_in_flight_server": after["max_in_flight"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the server takes per request")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--rounds", type=int, default=8, help="papers per run = rounds x concurrency")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fake_llm.py"), "--latency", str(args.latency)],
                              stdout=subprocess.PIPE, text=True)
    try:
        base_url = server.stdout.readline().strip()
        langs = args.lang.split(",")
        rows = []
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            row = bench(base_url, concurrency, args.rounds * concurrency, langs, args.batch_size)
            row["ceiling_requests_per_second"] = round(concurrency / args.latency, 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
        print("\n| concurrency | papers | seconds | papers/min | requests/s | ceiling C/L | in flight (max) "
              "| client CPU ms/request |")
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['concurrency']} | {r['papers']} | {r['seconds']} | {r['papers_per_minute']} | "
                  f"{r['requests_per_second']} | {r['ceiling_requests_per_second']} | {r['max_in_flight_client']} "
                  f"| {r['client_cpu_ms_per_request']} |")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
