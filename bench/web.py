"""Web latency with the 4,302 ICLR 2026 papers: 20 concurrent clients on loopback.

    PYTHONPATH=src python bench/web.py [--clients 20] [--seconds 15] [--cache both|on|off]

Papers are built here from /work/shared/data/iclr2026/*.csv (title, abstract, keywords, venue,
primary area as the topic, OpenReview id, average rating); explain_zh and haiku_category are not
read. The server runs `paperlens serve` in its own process; the clients are asyncio keep-alive
connections in this one (20 concurrent, each sends its next request when the last one answered)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from paperlens.core.models import Paper, SourceRef, Topic
from paperlens.store import Store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "iclr2026"
if not DATA.exists():
    DATA = Path("/work/shared/data/iclr2026")


def iclr_papers(data: Path):
    for path in sorted(data.glob("*.csv")):
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                forum = re.search(r"id=([\w-]+)", row["openreview_url"] or "")
                raw_kw = row.get("keywords") or ""
                keywords = [k.strip().rstrip(".") for k in re.split(r";|,", raw_kw) if k.strip().rstrip(".")]
                extra = {}
                if row.get("avg_rating"):
                    extra["avg_rating"] = float(row["avg_rating"])
                yield Paper(
                    id=f"openreview:{forum.group(1)}" if forum else "", title=row["title"].strip(),
                    abstract=row["abstract"].strip(), abstract_raw=row["abstract"], keywords=keywords,
                    venue=row["venue"], year=2026, openreview_id=forum.group(1) if forum else None,
                    topic=Topic(area=row["primary_area"]), extra=extra,
                    sources=[SourceRef(source="bench-iclr-csv", path=str(path), line=line)],
                )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _client(host: str, port: int, urls: list[str], start: int, stop: float, latencies: list[float]):
    # A minimal HTTP/1.1 keep-alive client: cheap on CPU, so the 2 cores go to the server under test.
    reader, writer = await asyncio.open_connection(host, port)
    i = start
    try:
        while time.perf_counter() < stop:
            url = urls[i % len(urls)]
            i += 1
            t0 = time.perf_counter()
            writer.write(f"GET {url} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                raise RuntimeError(f"{url}: HTTP {status}")
    finally:
        writer.close()


async def load(base: str, urls: list[str], clients: int, seconds: float) -> list[float]:
    host, port = base.split("//", 1)[1].split(":")
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    await asyncio.gather(*(_client(host, int(port), urls, k, stop, latencies) for k in range(clients)))
    return latencies


def summary(name: str, lat: list[float], seconds: float) -> str:
    q = statistics.quantiles(lat, n=100)
    return (f"| {name} | {len(lat)} | {len(lat) / seconds:.0f} | {statistics.median(lat):.1f} | {q[94]:.1f} | "
            f"{q[98]:.1f} | {max(lat):.1f} |")


def run_server(db: Path, cache: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PAPERLENS_PAGE_CACHE": "512" if cache == "on" else "0"}
    exe = Path(sys.executable).with_name("paperlens")
    proc = subprocess.Popen([str(exe), "--db", str(db), "serve", "--port", str(port)], env=env,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/", timeout=30).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--cache", choices=["both", "on", "off"], default="both")
    parser.add_argument("--db", type=Path, help="reuse a DB built by an earlier run")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    db = args.db
    if db is None or not db.exists():
        db = db or Path(tmp.name) / "iclr.db"
        t0 = time.perf_counter()
        result = Store(db).ingest(iclr_papers(DATA))
        print(f"ingested {result.new} new / {result.merged} merged papers in {time.perf_counter() - t0:.1f}s")
    store = Store(db, readonly=True)
    print(f"papers: {store.count()}  load average: {os.getloadavg()}  cores: {os.cpu_count()}")
    print("| run | requests | req/s | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|")
    for cache in (["on", "off"] if args.cache == "both" else [args.cache]):
        proc, base = run_server(db, cache)
        try:
            topics = httpx.get(base + "/api/topics").json()["topics"]
            big = max(topics, key=lambda t: t["papers"])
            topic_url = "/topics/" + httpx.URL("/x/" + big["slug"]).raw_path.decode().split("/x/", 1)[1]
            pages = -(-big["papers"] // 25)
            plans = {
                f"`/` cache {cache}": ["/"],
                f"topic page 1 ({big['papers']} papers) cache {cache}": [topic_url],
                f"topic pages 1..{pages}, sorted by rating, cache {cache}":
                    [f"{topic_url}?sort=rating&page={p}" for p in range(1, pages + 1)],
            }
            asyncio.run(load(base, ["/", topic_url], args.clients, 2))  # warm up
            for name, urls in plans.items():
                lat = asyncio.run(load(base, urls, args.clients, args.seconds))
                print(summary(name, lat, args.seconds), flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
