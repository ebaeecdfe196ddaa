"""Soak test of the web digest: N keep-alive clients for a long time over pages, search and feeds, while
an ingest and an enrich write to the same database from two other processes.

  PYTHONPATH=src python bench/soak.py --db /tmp/iclr.db [--clients 50] [--duration 600] [--interval 60]

The database is copied to a temporary directory first (the writers add papers to it), unless --in-place.
A real `paperlens serve` runs in its own process on 127.0.0.1; the writers are `paperlens ingest` (rounds
of --ingest-papers new synthetic arXiv records) and `paperlens enrich --steps ...` (rounds, so it keeps
enriching what the ingest adds). Every --interval seconds it prints the interval's req/s, p50/p95/p99,
errors (non-200 answers, broken connections) and the server's resident memory (RSS), then a summary: the
goal is 0 errors and RSS flat after the warm-up. --json writes every interval and the summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import _request, build_urls, percentile, start_server  # noqa: E402

KINDS = ("home", "topic", "paper", "search", "api-search", "feed", "atom")
WORDS = ("sparse attention memory retrieval graph diffusion token robust alignment kernel causal "
         "agent reward policy latent vision speech protein quantum federated privacy pruning").split()


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def paperlens_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("paperlens")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from paperlens.cli import main; main()"]


def synthetic_batch(path: Path, round_no: int, papers: int, rng: random.Random) -> None:
    """`papers` new arXiv-jsonl records (ids unique per round), a little over 1 kB each."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(papers):
            words = rng.sample(WORDS, 6)
            out.write(json.dumps({
                "id": f"{2700 + round_no % 90:04d}.{i:05d}", "submitter": "Soak Tester",
                "authors": f"Ada {words[0].title()}, Bo {words[1].title()} and Cy {words[2].title()}",
                "title": f"Soak {round_no}-{i}: {' '.join(words[:4]).title()}",
                "categories": rng.choice(["cs.LG", "cs.CL", "cs.CV", "stat.ML"]),
                "abstract": " ".join(rng.choice(WORDS) for _ in range(160)) + ".",
                "versions": [{"version": "v1", "created": "Mon, 2 Nov 2026 10:00:00 GMT"}],
            }) + "\n")


class Writer(threading.Thread):
    """Runs `make_command(round)` again and again until `until`; counts rounds and failures."""

    def __init__(self, name: str, make_command, until: float, workdir: Path):
        super().__init__(name=name, daemon=True)
        self.make_command, self.until, self.workdir = make_command, until, workdir
        self.rounds = self.failures = 0
        self.last_error = ""
        self.proc: subprocess.Popen | None = None
        self.stopped = False

    def run(self) -> None:
        while time.monotonic() < self.until:
            failed = False
            for cmd in self.make_command(self.rounds):  # in other processes: none of it competes here
                self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                             cwd=self.workdir)
                _, err = self.proc.communicate()
                if self.stopped:
                    return  # cut off by the end of the run: neither a round nor a failure
                if self.proc.returncode != 0:
                    failed = True
                    self.last_error = (err or "").strip().splitlines()[-1:] or [f"exit {self.proc.returncode}"]
                    break
            self.rounds += 1
            self.failures += failed
            time.sleep(0.5)

    def stop(self) -> None:
        self.until = 0
        self.stopped = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()


def feed_urls(urls: dict[str, list[str]], base: str, rng: random.Random) -> dict[str, list[str]]:
    from load import get_json

    topics = get_json(base + "/api/topics")["topics"]
    urls["feed"] = ["/feed", "/feed?page=2", "/trends"]
    queries = [u.split("q=", 1)[1].split("&")[0] for u in urls["search"]]
    urls["atom"] = ([f"/feeds/topics/{quote(t['slug'])}.atom" for t in topics[:50]]
                    + [f"/feeds/search.atom?q={q}" for q in queries[:100]])
    return urls


async def client(base: str, urls: dict, until: float, bucket: list, seed: int) -> None:
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
            status = await asyncio.wait_for(_request(reader, writer, parts.netloc, path), 60)
            error = None if status == 200 else f"HTTP {status} {kind}"
        except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError) as exc:
            error = f"{type(exc).__name__} {kind}"
            if writer is not None:
                writer.close()
            reader = writer = None
        bucket[0].append((kind, time.perf_counter() - started, error))
    if writer is not None:
        writer.close()


def summarise(samples: list, seconds: float) -> dict:
    lat = [s[1] * 1000 for s in samples]
    errors: dict[str, int] = {}
    for _, _, error in samples:
        if error:
            errors[error] = errors.get(error, 0) + 1
    return {"requests": len(lat), "rps": len(lat) / seconds if seconds else 0.0, "p50": percentile(lat, 50),
            "p95": percentile(lat, 95), "p99": percentile(lat, 99), "max": max(lat) if lat else float("nan"),
            "errors": errors}


async def soak(base: str, urls: dict, clients: int, duration: float, interval: float, server_pid: int,
               writers: list[Writer], db: Path) -> list[dict]:
    bucket: list[list] = [[]]
    started = time.monotonic()
    until = started + duration
    tasks = [asyncio.create_task(client(base, urls, until, bucket, seed)) for seed in range(clients)]
    rows = []
    print(f"{'min':>5s} {'req/s':>7s} {'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>8s} {'max ms':>8s} {'errors':>6s} "
          f"{'RSS MiB':>8s} {'papers':>7s} writers")
    last = started
    while time.monotonic() < until:
        await asyncio.sleep(max(0.0, min(interval, until - time.monotonic())))
        now = time.monotonic()
        samples, bucket[0] = bucket[0], []
        row = summarise(samples, now - last)
        row.update(at_s=round(now - started, 1), rss_mib=rss_mib(server_pid), papers=_papers(db),
                   writers={w.name: {"rounds": w.rounds, "failures": w.failures} for w in writers})
        rows.append(row)
        last = now
        errs = sum(row["errors"].values())
        print(f"{row['at_s'] / 60:5.1f} {row['rps']:7.1f} {row['p50']:7.1f} {row['p95']:7.1f} {row['p99']:8.1f} "
              f"{row['max']:8.1f} {errs:6d} {row['rss_mib']:8.1f} {row['papers']:7d} "
              + " ".join(f"{w.name} {w.rounds}r/{w.failures}f" for w in writers)
              + (f"  {row['errors']}" if errs else ""), flush=True)
    await asyncio.gather(*tasks)
    return rows


def _papers(db: Path) -> int:
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT max(rowid) FROM papers").fetchone()[0] or 0
        finally:
            conn.close()
    except sqlite3.Error:
        return -1


def main() -> int:
    if len(sys.argv) == 6 and sys.argv[1] == "--make-batch":  # a writer's helper process
        _, _, path, round_no, papers, seed = sys.argv
        synthetic_batch(Path(path), int(round_no), int(papers), random.Random(int(seed)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="database to serve (copied first unless --in-place)")
    parser.add_argument("--in-place", action="store_true", help="write to --db itself")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 10 minutes)")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between reports")
    parser.add_argument("--ingest-papers", type=int, default=2000, help="new papers per ingest round")
    parser.add_argument("--enrich-steps", default="keywords,topic", help="steps for the enrich rounds")
    parser.add_argument("--no-writers", action="store_true", help="readers only (a baseline)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="paperlens-soak-"))
    db = Path(args.db).resolve()
    if not args.in_place:
        for suffix in ("", "-wal", "-shm"):
            if Path(str(db) + suffix).exists():
                shutil.copy(str(db) + suffix, workdir / (db.name + suffix))
        db = workdir / db.name
    rng = random.Random(args.seed)
    proc, base = start_server(str(db), None)
    writers: list[Writer] = []
    try:
        urls = feed_urls(build_urls(base, rng), base, rng)
        print(f"server {base} (pid {proc.pid})  db {db}  clients {args.clients}  duration {args.duration:g}s  "
              f"urls: " + ", ".join(f"{k} {len(v)}" for k, v in urls.items()), flush=True)
        until = time.monotonic() + args.duration
        if not args.no_writers:
            cmd = paperlens_cmd()

            def ingest_round(n: int) -> list[list[str]]:
                batch = workdir / f"soak-{n}.jsonl"
                return [[sys.executable, __file__, "--make-batch", str(batch), str(n), str(args.ingest_papers),
                         str(args.seed * 1000 + n)],
                        [*cmd, "--db", str(db), "ingest", "--quiet", str(batch)]]

            def enrich_round(_n: int) -> list[list[str]]:
                return [[*cmd, "--db", str(db), "enrich", "--steps", args.enrich_steps]]

            writers = [Writer("ingest", ingest_round, until, workdir), Writer("enrich", enrich_round, until, workdir)]
            for w in writers:
                w.start()
        rss_start = rss_mib(proc.pid)
        rows = asyncio.run(soak(base, urls, args.clients, args.duration, args.interval, proc.pid, writers, db))
    finally:
        for w in writers:
            w.stop()
        for w in writers:
            w.join(timeout=60)
        proc.terminate()
        proc.wait(timeout=30)
    total = summarise([], 1)
    requests = sum(r["requests"] for r in rows)
    errors = sum(sum(r["errors"].values()) for r in rows)
    warm = rows[1:] or rows
    total.update(requests=requests, errors=errors, rss_start_mib=rss_start,
                 rss_after_warmup_mib=warm[0]["rss_mib"] if warm else None,
                 rss_end_mib=rows[-1]["rss_mib"] if rows else None,
                 worst_p99_ms=max((r["p99"] for r in rows), default=None),
                 writers={w.name: {"rounds": w.rounds, "failures": w.failures, "last_error": w.last_error}
                          for w in writers})
    print(f"total: {requests} requests, {errors} errors; server RSS {rss_start:.0f} MiB at start, "
          f"{total['rss_after_warmup_mib'] or 0:.0f} after the first interval, {total['rss_end_mib'] or 0:.0f} at the end; "
          f"worst interval p99 {total['worst_p99_ms'] or 0:.0f} ms; writers: "
          + ", ".join(f"{w.name} {w.rounds} rounds, {w.failures} failed{' (' + str(w.last_error) + ')' if w.failures else ''}"
                      for w in writers))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "intervals": rows, "summary": total}, indent=2))
    shutil.rmtree(workdir, ignore_errors=True)
    return 1 if errors or any(w.failures for w in writers) else 0


if __name__ == "__main__":
    raise SystemExit(main())
