"""Keyword search latency of the two backends on one database: SQLite FTS5 and Tantivy.

    PYTHONPATH=src python bench/keyword_backends.py DB [--queries the,model,...] [--repeat 3]

Prints the first Tantivy sync (or catch-up), then per query the milliseconds of each repeat for each
backend. Used to place TANTIVY_THRESHOLD (paperlens/search/textindex.py)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from paperlens.search.hybrid import HybridSearcher
from paperlens.store import Store

DEFAULT_QUERIES = "the,model,learning,model learning,the of,language models"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--queries", default=DEFAULT_QUERIES, help="comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    store = Store(args.db, readonly=True)
    print(f"{args.db}: {store.count()} papers")
    for backend in ("fts5", "tantivy"):
        os.environ["PAPERLENS_KEYWORD_INDEX"] = backend
        searcher = HybridSearcher(store)
        start = time.perf_counter()
        searcher.text_index()
        if backend == "tantivy":
            print(f"tantivy sync/open: {time.perf_counter() - start:.1f} s")
        for query in args.queries.split(","):
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                searcher.keyword(query, 10)
                times.append((time.perf_counter() - start) * 1000)
            print(f"{backend:8s} {query!r:20s} " + " ".join(f"{t:7.1f}" for t in times) + " ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
