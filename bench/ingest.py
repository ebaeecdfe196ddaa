"""Ingest benchmark: >= 100k distinct papers in arXiv bulk (Kaggle JSON lines) form through Store.ingest.

    PYTHONPATH=src .venv/bin/python bench/ingest.py [--papers 100000] [--sample CSV]

The records are made from the 2,000-paper arXiv sample (../shared/data/arxiv-sample): every record gets a
new id and DOI, a reworded title and a reordered abstract with its own first and last sentence, so no two merge.
Reports papers/s for parse + merge + store + FTS index, and the process RSS at checkpoints (it should stay
flat: the reader streams and the store writes in batches).
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperlens.ingest.pipeline import ingest_paths  # noqa: E402
from paperlens.store import Store  # noqa: E402

DEFAULT_SAMPLE = ROOT.parent / "shared" / "data" / "arxiv-sample" / "kaggle_arxiv_2000.csv"


def rss_mib() -> float:
    """Current resident set size (not the peak)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_seconds() -> tuple[float, float]:
    """CPU of every thread of this process, and of its finished children (the parser process)."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_sample(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            row["versions"] = ast.literal_eval(row["versions"]) if row["versions"] else []
            row["authors_parsed"] = ast.literal_eval(row["authors_parsed"]) if row["authors_parsed"] else []
            rows.append({k: (v if v != "" else None) for k, v in row.items()})
    return rows


def generate(sample: list[dict], n: int, out: Path, seed: int = 7) -> None:
    """n Kaggle-form records, each a distinct paper (new id, title, abstract head and tail)."""
    rng = random.Random(seed)
    vocab = sorted({w for r in sample for w in (r["abstract"] or "").split() if w.isalpha() and len(w) > 4})
    with open(out, "w", encoding="utf-8") as handle:
        for i in range(n):
            base = sample[i % len(sample)]
            yymm = 1501 + (i // 99999) % 12 + 100 * ((i // 99999) // 12)
            number = i % 99999 + 1
            words = rng.sample(vocab, 12)
            sentences = [s.strip() for s in (base["abstract"] or "").replace("\n", " ").split(". ") if s.strip()]
            rng.shuffle(sentences)
            abstract = (f"We study {' '.join(words[:5])}. " + ". ".join(sentences)
                        + f". Our results on {' '.join(words[5:10])} hold in general.")
            title = " ".join((base["title"] or "").split()) + f": {words[10]} {words[11]} ({i})"
            record = dict(base)
            # a DOI is a merge key: give each copy its own
            doi = f"10.48550/bench.{i}" if base["doi"] else None
            record.update(id=f"{yymm}.{number:05d}", title=title, abstract=abstract, doi=doi)
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument("--batch-size", type=int, default=2000)
    args = parser.parse_args()
    if not args.sample.exists():
        sys.exit(f"{args.sample}: arXiv sample not found")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "arxiv-snapshot.jsonl"
        t0 = time.perf_counter()
        generate(load_sample(args.sample), args.papers, source)
        print(f"generated {args.papers} records ({source.stat().st_size / 2**20:.0f} MiB) "
              f"in {time.perf_counter() - t0:.1f}s")
        store = Store(Path(tmp) / "bench.db")
        checkpoints: list[tuple[int, float, float]] = []
        done = 0
        next_mark = 20_000

        def on_record(n: int) -> None:
            nonlocal done, next_mark
            done += n
            if done >= next_mark:
                checkpoints.append((done, time.perf_counter() - start, rss_mib()))
                next_mark += 20_000

        print(f"RSS before ingest: {rss_mib():.0f} MiB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        cpu_start = cpu_seconds()
        start = time.perf_counter()
        report = ingest_paths(store, [source], fmt="auto", batch_size=args.batch_size, on_record=on_record)
        elapsed = time.perf_counter() - start
        own, children = (end - begin for end, begin in zip(cpu_seconds(), cpu_start, strict=True))
        cpu = own + children
        stored = store.count()
        fts = store.conn.execute("SELECT count(*) FROM papers_fts").fetchone()[0]
        store.close()
        db_mib = sum(p.stat().st_size for p in Path(tmp).glob("bench.db*")) / 2**20
        for count, at, rss in checkpoints:
            print(f"  after {count:>7} papers: {at:6.1f}s  RSS {rss:6.0f} MiB")
        print(f"ingested {report.valid} papers ({report.new} new, {report.rejected} rejected) in {elapsed:.1f}s: "
              f"{report.valid / elapsed:,.0f} papers/s")
        print(f"CPU time {cpu:.1f}s = {own:.1f}s writing here + {children:.1f}s in the parser process "
              f"({report.valid / cpu:,.0f} papers per CPU-second); "
              f"load average now {os.getloadavg()[0]:.1f}")
        print(f"stored {stored} papers, {fts} FTS rows, database {db_mib:.0f} MiB; peak RSS {peak_rss_mib():.0f} MiB")
        if stored != args.papers or fts != args.papers:
            sys.exit("benchmark records merged or were lost: the generator is broken")


if __name__ == "__main__":
    main()
