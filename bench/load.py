"""Load test of the web digest: N concurrent keep-alive clients for D seconds against the home page,
topic pages, paper pages and search pages (HTML and the JSON search API), on loopback.

The server runs in its own process (`paperlens serve`), started here over --db unless --url points at a
running one. URLs are drawn from the corpus (hundreds of papers, every topic and its first pages, queries
made of title words), so the page cache sees a realistic mix rather than one hot URL.

  PYTHONPATH=src python bench/load.py --db /tmp/iclr.db [--clients 50] [--duration 60] [--cache-size N]

Prints throughput, p50/p95/p99 latency and errors (non-200 answers, broken connections) per page kind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

KINDS = ("home", "topic", "paper", "search", "api-search")
GOALS_MS = {"home": 100, "topic": 100, "paper": 100, "search": 200, "api-search": 200}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(db: str, cache_size: int | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    if cache_size is not None:
        env["PAPERLENS_PAGE_CACHE"] = str(cache_size)
    exe = Path(sys.executable).with_name("paperlens")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from paperlens.cli import main; main()"]
    proc = subprocess.Popen([*cmd, "--db", db, "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read()}")
        try:
            urllib.request.urlopen(url + "/api/topics", timeout=5).read()
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not come up in 120 s")


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


def build_urls(base: str, rng: random.Random) -> dict[str, list[str]]:
    topics = get_json(base + "/api/topics")["topics"]
    papers = get_json(base + "/api/papers?limit=500")["papers"]
    if not topics or not papers:
        raise SystemExit("the database has no topics or no papers")
    words = [w.strip(".,:;()").lower() for p in papers for w in (p["title"] or "").split()]
    words = sorted({w for w in words if len(w) > 3 and w.isalpha()})
    queries = [" ".join(rng.sample(words, rng.choice([1, 1, 2, 3]))) for _ in range(300)]
    topic_urls = []
    for t in topics:
        pages = max(1, -(-t["papers"] // 25))
        topic_urls += [f"/topics/{quote(t['slug'])}"] + [f"/topics/{quote(t['slug'])}?page={n}"
                                                          for n in range(2, min(pages, 3) + 1)]
    return {"home": ["/"], "topic": topic_urls, "paper": [p["url"] for p in papers],
            "search": [f"/search?q={quote(q)}" for q in queries],
            "api-search": [f"/api/search?q={quote(q)}&limit=20" for q in queries]}


async def _request(reader, writer, host: str, path: str) -> int:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    if headers.get("connection", "").lower() == "close":
        raise ConnectionResetError("server closed the connection")
    return status


async def client(base: str, urls: dict[str, list[str]], until: float, results: dict, seed: int) -> None:
    rng = random.Random(seed)
    parts = urlsplit(base)
    reader = writer = None
    while time.monotonic() < until:
        kind = rng.choice(KINDS)
        path = rng.choice(urls[kind])
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            status = await _request(reader, writer, parts.netloc, path)
            error = None if status == 200 else f"HTTP {status}"
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            error = f"{type(exc).__name__}"
            if writer is not None:
                writer.close()
            reader = writer = None
        elapsed = time.perf_counter() - started
        entry = results[kind]
        entry["latencies"].append(elapsed)
        if error:
            entry["errors"][error] = entry["errors"].get(error, 0) + 1
    if writer is not None:
        writer.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


async def run(base: str, urls: dict[str, list[str]], clients: int, duration: float) -> tuple[dict, float]:
    results = {kind: {"latencies": [], "errors": {}} for kind in KINDS}
    started = time.monotonic()
    await asyncio.gather(*(client(base, urls, started + duration, results, seed) for seed in range(clients)))
    return results, time.monotonic() - started


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="database to serve (starts `paperlens serve` in its own process)")
    parser.add_argument("--url", help="a running server instead of --db")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    parser.add_argument("--cache-size", type=int, help="server's page cache entries (PAPERLENS_PAGE_CACHE; "
                                                        "default: the server's default, 0: off)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not (args.db or args.url):
        parser.error("give --db or --url")
    proc = None
    if args.url:
        base = args.url.rstrip("/")
    else:
        proc, base = start_server(args.db, args.cache_size)
    try:
        urls = build_urls(base, random.Random(args.seed))
        print(f"server {base}  clients {args.clients}  duration {args.duration:g}s  page cache "
              f"{'default' if args.cache_size is None else args.cache_size}  urls: " + ", ".join(f"{k} {len(v)}" for k, v in urls.items()))
        load_before = load_average()
        if args.warmup > 0:
            asyncio.run(run(base, urls, args.clients, args.warmup))
        results, elapsed = asyncio.run(run(base, urls, args.clients, args.duration))
        load_after = load_average()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"load average (1/5/15 min) before {load_before}, after {load_after}; {os.cpu_count()} CPUs")
    print(f"{'kind':11s} {'requests':>8s} {'req/s':>7s} {'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>7s} "
          f"{'mean ms':>7s} {'goal p95':>8s} errors")
    total, figures = 0, {}
    for kind in KINDS:
        lat = [x * 1000 for x in results[kind]["latencies"]]
        total += len(lat)
        row = {"requests": len(lat), "rps": len(lat) / elapsed, "p50": percentile(lat, 50),
               "p95": percentile(lat, 95), "p99": percentile(lat, 99),
               "mean": statistics.fmean(lat) if lat else float("nan"), "errors": results[kind]["errors"]}
        figures[kind] = row
        print(f"{kind:11s} {row['requests']:8d} {row['rps']:7.1f} {row['p50']:7.1f} {row['p95']:7.1f} "
              f"{row['p99']:7.1f} {row['mean']:7.1f} {GOALS_MS[kind]:8d} {row['errors'] or 0}")
    errors = sum(sum(r["errors"].values()) for r in figures.values())
    print(f"{'all':11s} {total:8d} {total / elapsed:7.1f}   errors: {errors}")
    if args.json:
        Path(args.json).write_text(json.dumps({"clients": args.clients, "duration": args.duration,
                                               "load_before": load_before, "load_after": load_after,
                                               "kinds": figures}, indent=2))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
