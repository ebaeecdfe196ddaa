"""Search at scale: keyword, vector and hybrid latency, ANN recall and serving memory on N synthetic papers.

Papers are made from the words of real abstracts (the ICLR 2026 set if ../shared is there, else the
bundled sample); vectors are synthetic (clustered, as many dimensions as the default embedder, L2-normalised) because embedding a million
abstracts on 2 cores takes days; the query embedding is real (the bundled model) and timed.

    python bench/search_scale.py --papers 1000000 --workdir /tmp/plscale

Re-running with the same --workdir reuses the database and indexes."""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import random
import re
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from paperlens.ingest.pipeline import ingest_paths
from paperlens.search.hybrid import HybridSearcher
from paperlens.store import Store

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/vectors.py
DIM = 256  # the default (static) embedder's dimension; checked against it in main()
MODEL_TAG = "synthetic-bench"


def vocabulary() -> list[str]:
    csv.field_size_limit(10**9)
    words: list[str] = []
    files = glob.glob(str(ROOT.parent / "shared" / "data" / "iclr2026" / "*.csv"))
    for name in files:
        with open(name, encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                words += re.findall(r"[A-Za-z][A-Za-z\-]+", row["abstract"])
    if not words:
        for name in (ROOT / "src" / "paperlens" / "sample").glob("*.txt"):
            words += re.findall(r"[A-Za-z][A-Za-z\-]+", name.read_text(encoding="utf-8"))
    return words


def write_snapshot(n: int, words: list[str], path: Path, seed: int = 0) -> None:
    """n synthetic papers as an arXiv bulk snapshot (Kaggle JSON lines), ingested like the real one."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            start = rng.randrange(len(words) - 200)
            # The record's marker opens and closes the abstract and opens the title, so no two synthetic
            # papers share a merge key (title, abstract head or tail): each is a distinct paper, as in a
            # real snapshot. (Without the closing one, windows of the word stream that end at the same
            # word shared a tail key and merged: the old 300k run stored 249k papers.)
            abstract = (f"Record zq{i:07d}. " + " ".join(words[start:start + rng.randint(120, 200)])
                        + f". End of record zq{i:07d}.")
            title = f"Zq{i:07d}: " + " ".join(words[start + 200 - 12:start + 200])
            record = {
                "id": f"{1501 + i // 99999 % 12 + 100 * (i // 99999 // 12)}.{i % 99999 + 1:05d}",
                "submitter": None, "title": title, "abstract": abstract, "doi": None, "categories": "cs.LG",
                "authors": f"Author {rng.randrange(50000)} and Author {rng.randrange(50000)}",
                "versions": [{"version": "v1", "created": f"Mon, 2 Jan {2015 + i % 12} 00:00:00 GMT"}],
                "update_date": f"{2015 + i % 12}-01-02", "authors_parsed": None, "journal-ref": None,
            }
            handle.write(json.dumps(record) + "\n")


def fill_vectors(store: Store, n: int, seed: int = 1, model: str = MODEL_TAG, dim: int = DIM) -> int:
    """Unit vectors shaped like the default embedder's (bench/vectors.py) for the papers (in rowid order)
    past those that have one; how many. (Before 2026-12-02: 2,000 random centres + noise 0.35 a
    dimension, clusters in unrelated directions, unlike text embeddings.)"""
    from vectors import EmbeddingLike

    like = EmbeddingLike(n, dim, seed)
    done = store.conn.execute("SELECT count(*) FROM embeddings WHERE model = ?", (model,)).fetchone()[0]
    ids = [r[0] for r in store.conn.execute("SELECT id FROM papers ORDER BY rowid")]
    for start in range(done, len(ids), 50000):
        chunk = ids[start:start + 50000]
        x = like.papers(len(chunk)).astype("<f4")
        with store.transaction():
            store.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (paper_id, model, dim, vector, content_hash) VALUES (?,?,?,?,?)",
                [(pid, model, dim, x[j].tobytes(), "") for j, pid in enumerate(chunk)])
    return max(0, len(ids) - done)


class FixedModelEmbedder:
    """The real query embedder, answering under the synthetic model's name."""

    def __init__(self):
        from paperlens.enrich.models.embed import get_embedder

        self.inner = get_embedder()
        if self.inner.dim != DIM:
            raise SystemExit(f"bench vectors are {DIM}-d but the default embedder gives {self.inner.dim}-d")
        self.name, self.dim = MODEL_TAG, DIM

    def encode(self, texts, batch_size=64):
        return self.inner.encode(texts, batch_size)


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def rss_mib() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/paperlens-scale"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--keyword-index", choices=["auto", "tantivy", "fts5"],
                        help="default: tantivy above 200k papers, else auto (Tantivy above 10k)")
    parser.add_argument("--serve-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ["PAPERLENS_KEYWORD_INDEX"] = args.keyword_index or ("tantivy" if args.papers > 200_000 else "auto")
    db = args.workdir / f"scale-{args.papers}.db"
    report: dict = {} if args.serve_only else {"papers": args.papers}
    store = Store(db)
    words = vocabulary()
    if not args.serve_only and store.count() < args.papers:
        snapshot = args.workdir / f"snapshot-{args.papers}.jsonl"
        if not snapshot.exists():
            write_snapshot(args.papers, words, snapshot)
        start = time.perf_counter()
        before = store.count()
        # Re-ingesting after an interruption only finds stored papers unchanged (resumable).
        result = ingest_paths(store, [snapshot], batch_size=args.batch_size)
        report["ingest_s"] = round(time.perf_counter() - start, 1)
        report["ingest_new_papers_per_s"] = round(result.new / (time.perf_counter() - start))
        report["ingest_counts"] = {"before": before, "new": result.new, "unchanged": result.unchanged,
                                   "merged": result.merged, "rejected": result.rejected}
    report["stored_papers"] = store.count()
    if not args.serve_only:
        fill_vectors(store, args.papers)
        store.close()
        # Measure serving in a fresh process, so its memory is what a reader really holds.
        import subprocess

        served = subprocess.run([sys.executable, __file__, "--papers", str(args.papers), "--workdir",
                                 str(args.workdir), "--queries", str(args.queries), "--serve-only",
                                 "--keyword-index", os.environ["PAPERLENS_KEYWORD_INDEX"]],
                                capture_output=True, text=True, check=True)
        report.update(json.loads(served.stdout))
        print(json.dumps(report, indent=2))
        return 0
    store.close()
    rss_before = rss_mib()
    store = Store(db, readonly=True)
    searcher = HybridSearcher(store, embedder=FixedModelEmbedder())
    start = time.perf_counter()
    text_index = searcher.text_index()
    report["keyword_index_sync_s"] = round(time.perf_counter() - start, 1)
    if text_index is None and hasattr(searcher, "keyword_docs"):
        # The bilingual keyword index beside the database (FTS5, Chinese segmented): built on first use.
        start = time.perf_counter()
        docs = searcher.keyword_docs()
        report["keyword_docs_build_s"] = round(time.perf_counter() - start, 1)
        report["keyword_docs_size_mib"] = round(docs.size_bytes() / 2**20, 1)
    if text_index is not None:
        size = sum(f.stat().st_size for f in text_index.directory.rglob("*") if f.is_file())
        report["tantivy_size_mib"] = round(size / 2**20, 1)
        head_files = list((text_index.directory / "paperlens-head").glob("*.npy"))
        report["keyword_head_terms"] = len(text_index._head)
        report["keyword_head_lists"] = text_index.head_source  # "loaded" (saved at an earlier sync) or "computed"
        report["keyword_head_lists_on_disk_mib"] = round(sum(f.stat().st_size for f in head_files) / 2**20)
    start = time.perf_counter()
    index = searcher.vector_index()
    report["vector_index_build_or_load_s"] = round(time.perf_counter() - start, 1)
    report["vector_index"] = "hnsw (usearch f16)" if index.ann else "exact"
    report["vector_index_choice"] = index.choice  # what open_index measured (empty: a saved or forced choice)

    rng = random.Random(5)
    rare = [f"zq{rng.randrange(args.papers):07d}" for _ in range(args.queries)]
    counts: dict[str, int] = {}
    for w in words[:200000]:
        counts[w.lower()] = counts.get(w.lower(), 0) + 1
    common = [w for w, _ in sorted(counts.items(), key=lambda kv: -kv[1])[:40]]
    common_queries = [rng.choice(common) for _ in range(args.queries)]
    two_word = [f"{rng.choice(common)} {rng.choice(common)}" for _ in range(args.queries)]
    for name, queries in (("rare", rare), ("common", common_queries), ("two_common", two_word)):
        stats_before = dict(text_index.head_stats) if text_index is not None else {}
        times = []
        for q in queries:
            t = time.perf_counter()
            searcher.keyword(q, 10)
            times.append(time.perf_counter() - t)
        report[f"keyword_{name}_p50_ms"] = round(pct(times, 0.5), 2)
        report[f"keyword_{name}_p95_ms"] = round(pct(times, 0.95), 2)
        if text_index is not None and name == "two_common":
            # Queries of several head terms: answered from the head lists, or run in full when they
            # could not prove the answer.
            report["keyword_two_common_from_head_lists"] = text_index.head_stats["proved"] - stats_before["proved"]
            report["keyword_two_common_fallbacks"] = text_index.head_stats["fallback"] - stats_before["fallback"]
    if text_index is not None and text_index._head:
        # Exactness at scale: the same queries with the head lists set aside run in full.
        fast = [searcher.keyword(q, 10) for q in two_word]
        head, text_index._head = text_index._head, {}
        full = [searcher.keyword(q, 10) for q in two_word]
        text_index._head = head
        report["keyword_two_common_same_as_full_query"] = sum(
            [pid for pid, _ in a] == [pid for pid, _ in b]
            and all(abs(x - y) <= 1e-6 * abs(y) for (_, x), (_, y) in zip(a, b, strict=True))
            for a, b in zip(fast, full, strict=True))
    report["rss_after_keyword_mib"] = round(rss_mib())

    # Vector search against exact ground truth on a sample of stored vectors as queries.
    sample_keys = [r[0] for r in store.conn.execute(
        "SELECT rowid FROM embeddings WHERE model = ? ORDER BY random() LIMIT ?", (MODEL_TAG, args.queries))]
    queries = [store.conn.execute("SELECT vector FROM embeddings WHERE rowid = ?", (k,)).fetchone()[0]
               for k in sample_keys]
    qmat = np.frombuffer(b"".join(queries), dtype="<f4").reshape(len(queries), DIM)
    times, found = [], []
    for q in qmat:
        t = time.perf_counter()
        keys, _ = index.search(q, 10)
        times.append(time.perf_counter() - t)
        found.append(set(keys.tolist()))
    truth = [set() for _ in qmat]
    best = [np.zeros((len(qmat), 0), dtype=np.float32), np.zeros((len(qmat), 0), dtype=np.int64)]
    for keys, matrix in store.iter_embeddings(MODEL_TAG):
        scores = qmat @ matrix.T
        allscores = np.hstack([best[0], scores])
        allkeys = np.hstack([best[1], np.broadcast_to(keys, scores.shape)])
        top = np.argpartition(-allscores, 9, axis=1)[:, :10]
        best = [np.take_along_axis(allscores, top, 1), np.take_along_axis(allkeys, top, 1)]
    truth = [set(row.tolist()) for row in best[1]]
    report["vector_p50_ms"] = round(pct(times, 0.5), 2)
    report["vector_p95_ms"] = round(pct(times, 0.95), 2)
    report["vector_recall_at_10"] = round(statistics.mean(len(a & b) / 10 for a, b in zip(found, truth, strict=True)), 4)

    hybrid_queries = [f"{rng.choice(common)} {rng.choice(words).lower()} {rng.choice(words).lower()}"
                      for _ in range(args.queries)]
    searcher.search(hybrid_queries[0])  # load the query model outside the timing
    times = []
    for q in hybrid_queries:
        t = time.perf_counter()
        searcher.search(q, limit=10)
        times.append(time.perf_counter() - t)
    report["hybrid_p50_ms"] = round(pct(times, 0.5), 2)
    report["hybrid_p95_ms"] = round(pct(times, 0.95), 2)
    report["serving_rss_mib"] = round(rss_mib())
    report["serving_rss_growth_mib"] = round(rss_mib() - rss_before)
    report["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report["db_size_mib"] = round(db.stat().st_size / 2**20)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
