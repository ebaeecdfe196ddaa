"""The web digest at scale: catalog build, serving memory, page latency and catching up on changes,
on N synthetic papers served by `paperlens serve`.

    PYTHONPATH=src python bench/web_scale.py --papers 1000000 --workdir /tmp/plweb

Papers are made from the words of real abstracts (the ICLR 2026 set if ../shared is there, else the
bundled sample) and written as paperlens JSON lines: 2-3 authors out of N/5 names, 12 topics, five
keywords out of 3,000, years 2015-2026, a code link for one in five. One paper in four comes without a
topic and keywords; those get them as `topic` and `keywords` enrichment outputs, stored as
`paperlens enrich` stores them, so the catalog applies enrichments as it does for real data. Everything
goes through the real ingest. The server runs in its own process with the page cache off (every
request renders its page); its memory is read from /proc. With --vectors, synthetic vectors are stored
under the default embedder's name, so the server also holds the vector index and search is hybrid: the
whole serving memory. Re-running with the same --workdir reuses the database."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from paperlens.core.models import Paper
from paperlens.ingest.pipeline import ingest_paths
from paperlens.search.hybrid import HybridSearcher
from paperlens.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_scale import fill_vectors, vocabulary  # noqa: E402
from web import free_port  # noqa: E402

TOPICS = [f"Synthetic topic {i}" for i in range(12)]
ENRICHED_SHARE = 4  # one paper in four gets topic and keywords from enrichment


def write_papers(n: int, words: list[str], path: Path, seed: int = 0) -> None:
    rng = random.Random(seed)
    vocab = sorted({w.lower() for w in words if len(w) > 3})[:3000]
    authors = max(1000, n // 5)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            start = rng.randrange(len(words) - 200)
            enriched = i % ENRICHED_SHARE == 0
            year = 2015 + i % 12
            record = {
                "id": f"bench:{i:07d}",
                "title": f"Zq{i:07d}: " + " ".join(words[start + 188:start + 200]),
                "abstract": f"Record zq{i:07d}. " + " ".join(words[start:start + rng.randint(120, 200)])
                            + f". End of record zq{i:07d}.",
                "authors": [f"Author {rng.randrange(authors)}" for _ in range(rng.randint(2, 3))],
                "year": year, "date": f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "keywords": [] if enriched else rng.sample(vocab, 5),
                "topic": None if enriched else {"area": "Synthetic area", "label": rng.choice(TOPICS)},
                "code_url": f"https://github.com/example/r{i}" if i % 5 == 0 else None,
                "summary": {}, "sources": [],
            }
            handle.write(json.dumps(record) + "\n")


def enrich_rest(store: Store, n: int, words: list[str], seed: int = 1) -> int:
    """Topic and keyword outputs for the papers that came without them."""
    rng = random.Random(seed)
    vocab = sorted({w.lower() for w in words if len(w) > 3})[:3000]
    done = {r[0] for r in store.conn.execute("SELECT paper_id FROM enrichments WHERE step = 'topic'")}
    rows = []
    written = 0
    for i in range(0, n, ENRICHED_SHARE):
        pid = f"bench:{i:07d}"
        if pid in done:
            continue
        rows.append({"paper_id": pid, "step": "topic", "version": "bench", "content_hash": "", "status": "ok",
                     "output": {"area": "Synthetic area", "label": rng.choice(TOPICS), "score": 0.5},
                     "model": "bench"})
        rows.append({"paper_id": pid, "step": "keywords", "version": "bench", "content_hash": "", "status": "ok",
                     "output": {"keywords": rng.sample(vocab, 5)}, "model": "bench"})
        if len(rows) >= 20000:
            store.save_enrichments(rows)
            written += len(rows)
            rows = []
    if rows:
        store.save_enrichments(rows)
        written += len(rows)
    return written


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1)


def timed(client: httpx.Client, urls: list[str], errors: list[str]) -> list[float]:
    times = []
    for url in urls:
        t = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - t)
        if response.status_code != 200:
            errors.append(f"{url}: HTTP {response.status_code} after {times[-1]:.1f} s")
    return times


def wait_for(client: httpx.Client, check, timeout: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if check(client):
            return time.perf_counter() - start
        time.sleep(0.2)
    raise RuntimeError("timed out")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/paperlens-web-scale"))
    parser.add_argument("--requests", type=int, default=40, help="requests per kind of page")
    parser.add_argument("--vectors", action="store_true",
                        help="also store synthetic vectors under the default embedder's name, so the server "
                             "holds the vector index too and search is hybrid (the whole serving memory)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = args.workdir / f"web-{args.papers}.db"
    report: dict = {"papers": args.papers}
    words = vocabulary()
    store = Store(db)
    if store.count() < args.papers:
        source = args.workdir / f"papers-{args.papers}.jsonl"
        if not source.exists():
            write_papers(args.papers, words, source)
        start = time.perf_counter()
        ingest_paths(store, [source], batch_size=2000)
        report["ingest_s"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    report["enrichment_rows_written"] = enrich_rest(store, args.papers, words)
    report["enrich_s"] = round(time.perf_counter() - start, 1)
    report["stored_papers"] = store.count()
    report["db_size_mib"] = round(db.stat().st_size / 2**20)
    if args.vectors:
        from paperlens.enrich.models.embed import get_embedder

        embedder = get_embedder()
        start = time.perf_counter()
        # clustered synthetic vectors: embedding a million abstracts here would take hours; the query
        # embedding stays real
        report["vectors_written"] = fill_vectors(store, args.papers, model=embedder.name, dim=embedder.dim)
        report["vectors_s"] = round(time.perf_counter() - start, 1)
    # Search indexes are built here, so the server's start and its pages are measured warm: paper pages
    # list similar papers (a keyword search without vectors, over Tantivy above 10k papers).
    start = time.perf_counter()
    searcher = HybridSearcher(store)
    searcher.text_index()
    report["keyword_index_sync_s"] = round(time.perf_counter() - start, 1)
    if args.vectors:
        start = time.perf_counter()
        searcher.vector_index()
        report["vector_index_build_or_load_s"] = round(time.perf_counter() - start, 1)
    del searcher
    errors: list[str] = []

    port = free_port()
    exe = Path(sys.executable).with_name("paperlens")
    env = {"PAPERLENS_PAGE_CACHE": "0", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    server = subprocess.Popen([str(exe), "--db", str(db), "serve", "--port", str(port)], env=env,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            def up(c):
                try:
                    return c.get("/api/topics").status_code == 200
                except httpx.TransportError:
                    return False

            wait_for(client, up, 3600)
            report["server_start_s"] = round(time.perf_counter() - start, 1)
            report["server_rss_after_start_mib"] = round(rss_mib(server.pid))
            topics = client.get("/api/topics").json()["topics"]
            big = max(topics, key=lambda t: t["papers"])
            rng = random.Random(3)
            deepest = max(2, big["papers"] // 25)  # 25 papers a page
            some_ids = [f"bench:{rng.randrange(args.papers):07d}" for _ in range(args.requests)]
            some_authors = [f"author-{rng.randrange(max(1000, args.papers // 5))}" for _ in range(args.requests)]
            kinds = {
                "index": ["/"] * args.requests,
                "topic_first_page": [f"/topics/{big['slug']}"] * args.requests,
                "topic_deep_page": [f"/topics/{big['slug']}?page={rng.randint(2, deepest)}" for _ in range(args.requests)],
                "topic_year_filter": [f"/topics/{big['slug']}?year={rng.randint(2015, 2026)}" for _ in range(args.requests)],
                "topic_sorted_by_title": [f"/topics/{big['slug']}?sort=title&page={rng.randint(1, min(50, deepest))}"
                                          for _ in range(args.requests)],
                "feed": [f"/feed?page={rng.randint(1, max(1, args.papers // 30))}" for _ in range(args.requests)],
                "paper": [f"/papers/{pid}" for pid in some_ids],
                "author": [f"/authors/{slug}" for slug in some_authors],
                "api_papers": [f"/api/papers?limit=50&offset={rng.randrange(args.papers - 50)}"
                               for _ in range(args.requests)],
                "trends": ["/trends"] * max(3, args.requests // 10),
                "api_search": [f"/api/search?q={rng.choice(words).lower()}+{rng.choice(words).lower()}&limit=20"
                               for _ in range(args.requests)],
            }
            if args.vectors:  # the server loads the saved vector index in the background: let it finish
                time.sleep(15)
            for name, urls in kinds.items():
                times = timed(client, urls, errors)
                report[f"{name}_first_ms"] = round(times[0] * 1000, 1)
                report[f"{name}_p50_ms"] = pct(times, 0.5)
                report[f"{name}_p95_ms"] = pct(times, 0.95)
            report["server_rss_after_pages_mib"] = round(rss_mib(server.pid))

            # Catching up: 1,000 new papers and 1,000 enrichment outputs while the server runs.
            stamp = f"{time.time_ns()}"
            new = [Paper(id=f"bench:new{stamp}-{i}", title=f"Fresh synthetic paper {stamp} {i}",
                         abstract=f"Fresh record {stamp}-{i}. " + " ".join(rng.sample(words, 150))
                         + f". End of fresh record {stamp}-{i}.",  # no merge key shared with any paper authors=[f"Author {i}"], year=2027,
                         topic={"area": "Synthetic area", "label": TOPICS[i % 12]}) for i in range(1000)]
            total_before = client.get("/api/topics").json()["papers"]
            start = time.perf_counter()
            result = store.ingest(new)
            if result.new != len(new):
                raise RuntimeError(f"catch-up papers were not all new: {result}")
            store.save_enrichments([
                {"paper_id": f"bench:{i:07d}", "step": "keywords", "version": f"bench-{stamp}", "content_hash": "",
                 "status": "ok", "output": {"keywords": ["caught up keyword"]}, "model": "bench"}
                for i in range(0, 4000, ENRICHED_SHARE)])
            written = time.perf_counter() - start
            report["catch_up_write_s"] = round(written, 2)
            report["catch_up_visible_s"] = round(wait_for(
                client, lambda c: c.get("/api/topics").json()["papers"] == total_before + 1000, 3600), 2)
            report["catch_up_tag_listed"] = client.get("/tags/caught%20up%20keyword").status_code == 200
            times = timed(client, kinds["topic_deep_page"][:10], errors)
            report["after_catch_up_topic_deep_page_p50_ms"] = pct(times, 0.5)
            report["server_rss_after_catch_up_mib"] = round(rss_mib(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=60)
    store.close()
    report["errors"] = errors
    report["page_latency_summary"] = {k: v for k, v in report.items() if k.endswith("_p95_ms")}
    report["median_of_p95_ms"] = statistics.median(report["page_latency_summary"].values())
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
