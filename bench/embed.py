"""Embedding throughput (abstracts/s) of the embedders on the bundled seed abstracts, and with --quality
their quality on ICLR 2026 papers (local evaluation only; ../shared/data/iclr2026):
- known-item retrieval: query = a paper's title, corpus = the abstracts of N papers; MRR and recall@10;
- topic classification: 5-fold logistic regression on the embeddings, 12 primary areas; accuracy.

    PYTHONPATH=src python bench/embed.py [--embedders static,minilm] [--n 200] [--threads 2]
    PYTHONPATH=src python bench/embed.py --quality --quality-n 1000 [--cache /tmp/paperlens-cache]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedders", default="static,minilm")
    parser.add_argument("--n", type=int, default=200, help="abstracts per embedder")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--quality-n", type=int, default=1000)
    parser.add_argument("--cache", help="directory to keep ICLR embeddings between runs")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)
    from paperlens.enrich.models.embed import get_embedder, paper_text
    from paperlens.sources import read_records

    papers = [p for p in read_records(next((ROOT / "src/paperlens/sample").glob("002_*.txt")))
              if hasattr(p, "abstract")]
    texts = [paper_text(p.title, p.abstract) for p in papers][: args.n]
    if args.quality:
        quality(args)
        return
    for name in args.embedders.split(","):
        embedder = get_embedder(name)
        embedder.encode(texts[:8])  # warm-up
        start = time.perf_counter()
        vectors = embedder.encode(texts)
        seconds = time.perf_counter() - start
        print(f"{embedder.name}\tdim {vectors.shape[1]}\t{len(texts)} abstracts\t{seconds:.2f} s\t"
              f"{len(texts) / seconds:.1f} abstracts/s", flush=True)


def quality(args) -> None:
    import random

    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    from paperlens.enrich.models.embed import get_embedder
    from paperlens.eval.topics import iclr_records

    records, labels = iclr_records()
    order = list(range(len(records)))
    random.Random(0).shuffle(order)
    order = order[: args.quality_n]
    titles = [records[i]["title"] for i in order]
    abstracts = [records[i]["abstract"] for i in order]
    y = np.array([labels[i] for i in order])
    for name in args.embedders.split(","):
        embedder = get_embedder(name)

        def encode(kind, texts, embedder=embedder):
            if not args.cache:
                return embedder.encode(texts)
            path = Path(args.cache) / f"iclr{args.quality_n}_{kind}_{embedder.name}.npy"
            if not path.exists():
                np.save(path, embedder.encode(texts))
            return np.load(path)

        queries, corpus = encode("titles", titles), encode("abstracts", abstracts)
        scores = queries @ corpus.T
        ranks = (scores > scores[np.arange(len(order)), np.arange(len(order))][:, None]).sum(axis=1) + 1
        accuracy = cross_val_score(LogisticRegression(C=10, max_iter=3000), corpus, y, cv=5).mean()
        print(f"{embedder.name}\tN={len(order)}\tMRR {np.mean(1 / ranks):.3f}\trecall@10 {np.mean(ranks <= 10):.3f}"
              f"\tarea accuracy (5-fold LR) {accuracy:.3f}", flush=True)


if __name__ == "__main__":
    main()
