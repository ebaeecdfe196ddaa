"""paperlens against the bare libraries beneath it, each pair measured A/B alternately in one run.
    PYTHONPATH=src .venv/bin/python bench/limits.py [--papers 100000] [--workdir /tmp/pllimits] [--only a,b]
Prints the ratio table of issue 19 (markdown) and, with --json FILE, every measurement. Pairs:
  ingest      `paperlens ingest` of an arXiv snapshot (CPU-ms per paper, parser child included) against a bare
              script: json.loads + sqlite3 executemany + a contentless FTS5 over title and abstract; goal <= 2x
  serve       `paperlens serve` until `/` answers 200, against a bare uvicorn app that reads the same database;
              goal <= 5x. The first start (no catalog snapshot beside the database yet) has its own row
  cli-search  one `paperlens search WORD` process, against python + sqlite3 FTS5 MATCH on the bare database;
              goal <= 6x
  vectors     top-10 over N clustered vectors: paperlens' VectorIndex (its own exact/HNSW choice), against the
              faster of a one-BLAS-thread numpy scan and usearch HNSW at recall >= 0.95; goal <= 1.5x (p95)
  embedder    the static embedder, against the same tokenizer and table with a per-row numpy mean; goal >= 0.9x
  cached      cached pages at 20 keep-alive clients, against a bare ASGI app answering the same bytes under the
              same uvicorn; goal >= 0.6x throughput
  paper-page  uncached paper pages at 20 clients, against Starlette StaticFiles serving the same pages (no goal)
  api-search  uncached /api/search at 20 clients against 1 client (scaling on the cores; goal: >= 1x, no collapse)
Papers are the synthetic arXiv records of bench/ingest.py (from ../shared/data/arxiv-sample). The machine's
load average is printed at the start and the end: the figures are ratios because absolute ones move 2x from day
to day on shared cores. Servers run in their own processes; the HTTP clients are bench/web.py's asyncio ones.
Each load measurement starts once its server is idle (wait_idle: its start-up's background work, such as
paperlens warming its search indexes, done), so the pairs compare steady states.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from ingest import DEFAULT_SAMPLE, generate, load_sample  # noqa: E402
from web import load  # noqa: E402

PY = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(BENCH.parent / "src"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

BARE_INGEST = textwrap.dedent('''
    import json, sqlite3, sys
    src, db = sys.argv[1], sys.argv[2]
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE papers (rowid INTEGER PRIMARY KEY, id TEXT UNIQUE, title TEXT, data TEXT)")
    conn.execute("CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, content='')")
    batch = []
    def flush():
        with conn:
            cur = conn.executemany("INSERT INTO papers (id, title, data) VALUES (?, ?, ?)",
                                   [(r["id"], r["title"], line) for r, line in batch])
            first = conn.execute("SELECT max(rowid) FROM papers").fetchone()[0] - len(batch) + 1
            conn.executemany("INSERT INTO papers_fts (rowid, title, abstract) VALUES (?, ?, ?)",
                             [(first + i, r["title"], r["abstract"]) for i, (r, _) in enumerate(batch)])
        batch.clear()
    with open(src, encoding="utf-8") as handle:
        for line in handle:
            batch.append((json.loads(line), line))
            if len(batch) >= 2000:
                flush()
    flush()
''')

BARE_SEARCH = textwrap.dedent('''
    import sqlite3, sys
    conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    rows = conn.execute("SELECT p.id, p.title FROM (SELECT rowid, bm25(papers_fts) AS s FROM papers_fts "
                        "WHERE papers_fts MATCH ? ORDER BY s LIMIT 10) AS hit JOIN papers p ON p.rowid = hit.rowid "
                        "ORDER BY hit.s", (sys.argv[2],)).fetchall()
    for pid, title in rows:
        print(pid, title)
''')

BARE_SERVER = textwrap.dedent('''
    import sqlite3, sys
    import uvicorn
    import pickle
    db, port, body_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)
    bodies = pickle.load(open(body_file, "rb")) if body_file != "-" else {}  # path -> the page's bytes

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        page = bodies.get(scope["path"])
        if page is None:
            count = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
            page = f"<html><body>{count} papers</body></html>".encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                (b"content-length", str(len(page)).encode())]})
        await send({"type": "http.response.body", "body": page})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
''')

STATIC_SERVER = textwrap.dedent('''
    import sys
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles
    app = Starlette(routes=[Mount("/", StaticFiles(directory=sys.argv[1], html=True))])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
''')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cpu(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one command."""
    cpu0, t0 = children_cpu(), time.perf_counter()
    subprocess.run(cmd, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, children_cpu() - cpu0


def wait_ok(base: str, proc: subprocess.Popen, timeout: float = 600) -> float:
    t0 = time.perf_counter()
    with httpx.Client(timeout=60) as client:
        while time.perf_counter() - t0 < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                if client.get(base + "/").status_code == 200:
                    return time.perf_counter() - t0
            except httpx.TransportError:
                time.sleep(0.02)
    raise RuntimeError("server did not answer")


def start(cmd: list[str], env: dict | None = None) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    cmd = [c.replace("{port}", str(port)) for c in cmd]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env or ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_ok(base, proc)
    return proc, base, time.perf_counter() - t0


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, every thread) of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(proc: subprocess.Popen, timeout: float = 180, window: float = 0.5, busy: float = 0.05) -> float:
    """Wait until the server's background work is done (under 10% of a core over two windows running),
    so a load measurement sees the steady state, not a start-up's index loading; returns the seconds
    waited. paperlens serve warms its search indexes and loads the rest of its catalog after the first
    answer (app.py): measured during that, cached pages lost a third of their throughput to it."""
    t0, quiet = time.perf_counter(), 0
    last = process_cpu(proc.pid)
    while time.perf_counter() - t0 < timeout and quiet < 2:
        time.sleep(window)
        now = process_cpu(proc.pid)
        quiet = quiet + 1 if now - last < busy else 0
        last = now
    return time.perf_counter() - t0


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()


def paperlens_server(db: Path, cache: bool) -> list[str]:
    return [PY, "-m", "paperlens", "--db", str(db), "serve", "--port", "{port}"], \
        {**ENV, "PAPERLENS_PAGE_CACHE": "2048" if cache else "0"}


def throughput(base: str, urls: list[str], clients: int, seconds: float) -> tuple[float, float, float]:
    latencies = asyncio.run(load(base, urls, clients, seconds))
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return len(latencies) / seconds, statistics.median(latencies), q[94]


class Table:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, path: str, ours: str, bare: str, ratio: float, goal: str, met: bool | None, **extra) -> None:
        self.rows.append({"path": path, "paperlens": ours, "bare": bare, "ratio": ratio, "goal": goal,
                          "met": met, **extra})
        mark = "" if met is None else ("yes" if met else "NO")
        print(f"  -> {path}: {ours} | {bare} | {ratio:.2f}x | goal {goal} | {mark}", flush=True)

    def markdown(self) -> str:
        lines = ["| path | paperlens | bare limit, same run | ratio | goal | met |", "|---|---|---|---|---|---|"]
        for r in self.rows:
            mark = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
            lines.append(f"| {r['path']} | {r['paperlens']} | {r['bare']} | {r['ratio']:.2f}× | {r['goal']} | {mark} |")
        return "\n".join(lines)


def bench_ingest(work: Path, snapshot: Path, n: int, table: Table) -> tuple[Path, Path]:
    ours_db, bare_db = work / "paperlens.db", work / "bare.db"
    ours_cpu, bare_cpu = [], []
    for rnd in range(2):
        for db in (ours_db, bare_db):
            for f in work.glob(db.name + "*"):  # the database, its WAL and the indexes beside it
                shutil.rmtree(f) if f.is_dir() else f.unlink()
        if rnd % 2 == 0:
            wall_b, cpu_b = run_cpu([PY, "-c", BARE_INGEST, str(snapshot), str(bare_db)])
            wall_a, cpu_a = run_cpu([PY, "-m", "paperlens", "--db", str(ours_db), "ingest", str(snapshot)])
        else:
            wall_a, cpu_a = run_cpu([PY, "-m", "paperlens", "--db", str(ours_db), "ingest", str(snapshot)])
            wall_b, cpu_b = run_cpu([PY, "-c", BARE_INGEST, str(snapshot), str(bare_db)])
        print(f"ingest round {rnd}: paperlens {wall_a:.1f}s wall {cpu_a:.1f}s CPU; bare {wall_b:.1f}s wall {cpu_b:.1f}s CPU",
              flush=True)
        ours_cpu.append(cpu_a)
        bare_cpu.append(cpu_b)
    a, b = min(ours_cpu) / n * 1000, min(bare_cpu) / n * 1000
    table.add("ingest of a snapshot (CPU per paper)", f"{a:.3f} ms ({1000 / a:,.0f}/CPU-s)",
              f"{b:.3f} ms ({1000 / b:,.0f}/CPU-s)", a / b, "≤ 2×", a / b <= 2)
    return ours_db, bare_db


def bench_serve(ours_db: Path, bare_db: Path, table: Table, rounds: int = 3) -> None:
    ours, bare = [], []
    cmd, env = paperlens_server(ours_db, cache=True)
    # The first start reads every paper and saves the catalog beside the database (<db>.catalog); later
    # starts load that and catch up. The first is shown on its own row, the pair is of later starts.
    snapshot = ours_db.with_name(ours_db.name + ".catalog")
    snapshot.unlink(missing_ok=True)
    proc, _, first = start(cmd, env)
    stop(proc)  # waits for the snapshot being saved (the app's shutdown does)
    proc, _, first_bare = start([PY, "-c", BARE_SERVER, str(bare_db), "{port}", "-"])
    stop(proc)
    table.add("`serve` first start (no `<db>.catalog` yet)", f"{first:.2f} s", f"{first_bare:.2f} s",
              first / first_bare, "", None)
    for _ in range(rounds):
        proc, _, took = start(cmd, env)
        stop(proc)
        ours.append(took)
        proc, _, took = start([PY, "-c", BARE_SERVER, str(bare_db), "{port}", "-"])
        stop(proc)
        bare.append(took)
    a, b = statistics.median(ours), statistics.median(bare)
    table.add("`serve` until `/` answers", f"{a:.2f} s", f"{b:.2f} s", a / b, "≤ 5×", a / b <= 5,
              samples={"paperlens": ours, "bare": bare})


def bench_cli_search(ours_db: Path, bare_db: Path, words: list[str], table: Table) -> None:
    ours, bare = [], []
    for word in words:
        ours.append(run_cpu([PY, "-m", "paperlens", "--db", str(ours_db), "search", "--mode", "keyword", word])[0])
        bare.append(run_cpu([PY, "-c", BARE_SEARCH, str(bare_db), word])[0])
    a, b = statistics.median(ours), statistics.median(bare)
    table.add("one `paperlens search` (keyword) as a process", f"{a * 1000:.0f} ms", f"{b * 1000:.0f} ms", a / b,
              "≤ 6×", a / b <= 6)


def bench_vectors(n: int, table: Table, queries: int = 200) -> None:
    from threadpoolctl import threadpool_limits

    # Vectors shaped like the default embedder's (bench/vectors.py): the earlier ones (200 centres, noise
    # 0.6 a dimension) were nearly uniform, HNSW's worst case and unlike any text embedding.
    from vectors import EmbeddingLike

    from paperlens.search.vectorindex import open_index

    dim = 256
    like = EmbeddingLike(n, dim)
    vectors = like.papers(n)
    keys = np.arange(n, dtype=np.int64)
    qs = like.queries(queries)
    truth = [set(np.argsort(-(vectors @ q))[:10].tolist()) for q in qs]

    def timed(search) -> tuple[float, float, float]:
        lat, hits = [], 0
        for q, want in zip(qs, truth, strict=True):
            t0 = time.perf_counter()
            found = search(q)
            lat.append((time.perf_counter() - t0) * 1000)
            hits += len(want & set(int(k) for k in found))
        q95 = statistics.quantiles(lat, n=100)[94]
        return statistics.median(lat), q95, hits / (10 * len(qs))

    workdir = Path(tempfile.mkdtemp(prefix="pllimits-vectors-"))
    with threadpool_limits(limits=1, user_api="blas"):
        # paperlens' own measured choice of exact scan or HNSW (search/vectorindex.open_index)
        index = open_index(dim, n, lambda: [(keys, vectors)], workdir / "v.usearch")
        index.add_batches([(keys, vectors)])
        print(f"vectors at {n}: paperlens chose {'HNSW' if index.ann else 'the exact scan'} {index.choice}", flush=True)
        index.search(qs[0], 10)  # warm: the first search may finish building the index
        ours = timed(lambda q: index.search(q, 10)[0])
        exact = timed(lambda q: keys[np.argpartition(-(vectors @ q), 10)[:10]])
        try:
            from usearch.index import Index

            hnsw = Index(ndim=dim, metric="cos", dtype="f16", connectivity=16, expansion_add=128, expansion_search=64)
            hnsw.add(keys, vectors)
            ann = timed(lambda q: hnsw.search(q, 10).keys)
        except ImportError:
            ann = (float("inf"), float("inf"), 0.0)
    candidates = [("numpy exact scan, 1 BLAS thread", exact)]
    if ann[2] >= 0.95:
        candidates.append((f"usearch HNSW (recall {ann[2]:.3f})", ann))
    name, best = min(candidates, key=lambda c: c[1][1])
    print(f"vectors at {n}: paperlens p50 {ours[0]:.2f} p95 {ours[1]:.2f} ms recall {ours[2]:.3f}; exact "
          f"{exact[0]:.2f}/{exact[1]:.2f}; HNSW {ann[0]:.2f}/{ann[1]:.2f} recall {ann[2]:.3f}", flush=True)
    table.add(f"vector top-10 at {n:,}", f"p50 {ours[0]:.1f} / p95 {ours[1]:.1f} ms (recall {ours[2]:.3f})",
              f"{name}: p50 {best[0]:.1f} / p95 {best[1]:.1f} ms", ours[1] / best[1], "≤ 1.5× (p95)",
              ours[1] / best[1] <= 1.5 and ours[2] >= 0.95)
    shutil.rmtree(workdir, ignore_errors=True)


def bench_embedder(table: Table, rounds: int = 3) -> None:
    from threadpoolctl import threadpool_limits

    from paperlens.enrich.models.embed import StaticEmbedder
    from paperlens.sources import read_records

    texts = []
    for path in sorted((BENCH.parent / "src" / "paperlens" / "sample").glob("*.txt")):
        texts += [r.abstract for r in read_records(path) if getattr(r, "abstract", None)]
    texts = (texts * (2000 // max(len(texts), 1) + 1))[:2000]
    embedder = StaticEmbedder()

    def bare() -> np.ndarray:
        out = np.zeros((len(texts), embedder.dim), np.float32)
        for row, enc in enumerate(embedder.tokenizer.encode_batch(texts, add_special_tokens=False)):
            if enc.ids:
                out[row] = embedder.table[enc.ids[:512]].mean(0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    ours, ref = [], []
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(rounds):
            t0 = time.perf_counter()
            embedder.encode(texts)
            ours.append(len(texts) / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            bare()
            ref.append(len(texts) / (time.perf_counter() - t0))
    a, b = max(ours), max(ref)
    table.add("static embedder", f"{a:,.0f} abstracts/s", f"{b:,.0f} abstracts/s (per-row numpy mean)", a / b,
              "≥ 0.9×", a / b >= 0.9)


def page_urls(base: str, n: int = 200) -> tuple[list[str], list[str]]:
    with httpx.Client(timeout=120) as client:
        papers = client.get(base + "/api/papers", params={"limit": n}).json()
    items = papers.get("papers") or papers.get("items") or papers.get("results") or []
    ids = [p["id"] for p in items]
    return ["/", *[f"/papers/{pid}" for pid in ids]], ids


def bench_cached(ours_db: Path, work: Path, table: Table, seconds: float) -> None:
    cmd, env = paperlens_server(ours_db, cache=True)
    proc, base, _ = start(cmd, env)
    try:
        urls, _ = page_urls(base, 50)
        pages: dict[str, bytes] = {}
        with httpx.Client(timeout=120) as client:
            for url in urls:  # warm the cache, and keep each page for the bare app to answer the same bytes
                pages[url] = client.get(base + url).content
        bodies = work / "pages.pickle"
        bodies.write_bytes(pickle.dumps(pages))
        wait_idle(proc)
        ours = throughput(base, urls, 20, seconds)
    finally:
        stop(proc)
    proc, bare_base, _ = start([PY, "-c", BARE_SERVER, str(ours_db), "{port}", str(bodies)])
    try:
        wait_idle(proc)
        bare = throughput(bare_base, urls, 20, seconds)
    finally:
        stop(proc)
    proc, base, _ = start(cmd, env)
    try:
        with httpx.Client(timeout=120) as client:
            for url in urls:
                client.get(base + url)
        wait_idle(proc)
        ours2 = throughput(base, urls, 20, seconds)
    finally:
        stop(proc)
    a = max(ours[0], ours2[0])
    table.add("cached pages at 20 clients", f"{a:,.0f} req/s (p50 {ours[1]:.1f} ms)",
              f"bare ASGI, same bytes: {bare[0]:,.0f} req/s", a / bare[0], "≥ 0.6×", a / bare[0] >= 0.6)


def bench_paper_page(ours_db: Path, work: Path, table: Table, seconds: float) -> None:
    cmd, env = paperlens_server(ours_db, cache=False)
    proc, base, _ = start(cmd, env)
    static = work / "static"
    shutil.rmtree(static, ignore_errors=True)
    try:
        urls, ids = page_urls(base, 200)
        urls = urls[1:]
        static.mkdir(parents=True)
        (static / "index.html").write_text("<html></html>")  # what the readiness check asks for
        with httpx.Client(timeout=120) as client:
            for url in urls:
                target = static / url.lstrip("/") / "index.html"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(client.get(base + url).content)
        wait_idle(proc)
        ours = throughput(base, urls, 20, seconds)
    finally:
        stop(proc)
    proc, sbase, _ = start([PY, "-c", STATIC_SERVER, str(static), "{port}"])
    try:
        wait_idle(proc)
        bare = throughput(sbase, [u + "/" for u in urls], 20, seconds)
    finally:
        stop(proc)
    table.add("uncached paper page at 20 clients", f"p50 {ours[1]:.0f} ms, {ours[0]:,.0f} req/s",
              f"StaticFiles: p50 {bare[1]:.1f} ms, {bare[0]:,.0f} req/s", bare[0] / ours[0], "(none)", None)


def bench_api_search(ours_db: Path, words: list[str], table: Table, seconds: float) -> None:
    cmd, env = paperlens_server(ours_db, cache=False)
    proc, base, _ = start(cmd, env)
    try:
        urls = [f"/api/search?q={quote(w)}&limit=10" for w in words]
        with httpx.Client(timeout=120) as client:  # the first search may wait for an index being built
            client.get(base + urls[0])
        wait_idle(proc)
        one = throughput(base, urls, 1, seconds)
        many = throughput(base, urls, 20, seconds)
        one2 = throughput(base, urls, 1, seconds)
    finally:
        stop(proc)
    single = max(one[0], one2[0])
    table.add("`/api/search` uncached, 20 clients vs 1", f"20 clients: {many[0]:,.1f} req/s, p50 {many[1]:.0f} ms",
              f"1 client: {single:,.1f} req/s, p50 {one[1]:.0f} ms", many[0] / single, "≥ 1× (scales)",
              many[0] / single >= 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--seconds", type=float, default=10.0, help="per load measurement")
    parser.add_argument("--only", default="", help="comma-separated pairs (default: all)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))

    def want(name: str) -> bool:
        return not only or name in only

    work = args.workdir or Path(tempfile.mkdtemp(prefix="pllimits-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"bench/limits.py: {args.papers:,} papers in {work}; {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    table = Table()
    snapshot = work / "snapshot.jsonl"
    if not snapshot.exists() or sum(1 for _ in open(snapshot, encoding="utf-8")) != args.papers:
        generate(load_sample(DEFAULT_SAMPLE), args.papers, snapshot)
    ours_db, bare_db = work / "paperlens.db", work / "bare.db"
    if want("ingest") or not (ours_db.exists() and bare_db.exists()):
        ours_db, bare_db = bench_ingest(work, snapshot, args.papers, table)
    words = ["learning", "graph", "quantum", "neural network", "spectrum", "galaxy", "optimal", "robust"]
    if want("serve"):
        bench_serve(ours_db, bare_db, table)
    if want("cli-search"):
        bench_cli_search(ours_db, bare_db, words, table)
    if want("vectors"):
        bench_vectors(args.papers, table)
    if want("embedder"):
        bench_embedder(table)
    if want("cached"):
        bench_cached(ours_db, work, table, args.seconds)
    if want("paper-page"):
        bench_paper_page(ours_db, work, table, args.seconds)
    if want("api-search"):
        bench_api_search(ours_db, words, table, args.seconds)
    load_end = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{args.papers:,} papers, {os.cpu_count()} CPUs, load average at the end {load_end}\n")
    print(table.markdown())
    if args.json:
        args.json.write_text(json.dumps({"papers": args.papers, "load_end": load_end, "rows": table.rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
