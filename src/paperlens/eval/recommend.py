"""Recommendation quality: libraries of `library_size` papers drawn from one ICLR 2026 primary area; the
papers ranked among all the others; precision@k = the share of the top k from the library's area.

Measured in one run for the paperlens ranker (recommend.rank.score_docs) and two baselines on the same
libraries: a tf-idf centroid (cosine to the library's mean vector) and an arxiv-sanity-style tf-idf SVM.
The collection is for evaluation only: nothing here is trained for shipping, nothing of it is stored."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from paperlens.recommend.rank import Doc, Weights, centroid_scores, score_docs, svm_scores, tfidf_matrix
from paperlens.sources import Rejected, read_records

METHODS = ("paperlens", "tfidf-centroid", "tfidf-svm")


@dataclass
class AreaResult:
    area: str
    papers: int
    libraries: int
    precision: dict[str, float] = field(default_factory=dict)


@dataclass
class RecommendEval:
    papers: int
    library_size: int
    k: int
    libraries_per_area: int
    embedder: str
    areas: list[AreaResult]
    seconds: dict[str, float]

    def mean(self, method: str) -> float:
        return float(np.mean([a.precision[method] for a in self.areas])) if self.areas else 0.0

    def as_dict(self) -> dict:
        return {"papers": self.papers, "library_size": self.library_size, "k": self.k,
                "libraries_per_area": self.libraries_per_area, "embedder": self.embedder,
                "mean": {m: round(self.mean(m), 4) for m in METHODS},
                "areas": [{"area": a.area, "papers": a.papers, "libraries": a.libraries,
                           "precision": {m: round(v, 4) for m, v in a.precision.items()}} for a in self.areas],
                "seconds": {m: round(s, 1) for m, s in self.seconds.items()}}


def load_collection(files: Sequence[Path]) -> tuple[list[Doc], list[str]]:
    """Docs (title and abstract only, like a day's arXiv papers) and their primary areas."""
    docs, areas = [], []
    for path in files:
        for record in read_records(path):
            if isinstance(record, Rejected) or not (record.topic and record.topic.area):
                continue
            title = record.title
            docs.append(Doc(id=record.openreview_id or f"{path.name}:{len(docs)}", title=title,
                            text=f"{title}. {record.abstract}", authors=list(record.authors)))
            areas.append(record.topic.area)
    return docs, areas


def evaluate_recommend(docs: Sequence[Doc], areas: Sequence[str], *, embeddings: np.ndarray | None = None,
                       embedder: str = "", library_size: int = 30, k: int = 20, libraries_per_area: int = 5,
                       seed: int = 17, weights: Weights | None = None,
                       on_library: Callable[[], None] | None = None) -> RecommendEval:
    rng = random.Random(seed)
    labels = np.asarray(areas)
    features = tfidf_matrix([d.text for d in docs])
    by_area: dict[str, list[int]] = defaultdict(list)
    for i, area in enumerate(areas):
        by_area[area].append(i)
    methods: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "paperlens": lambda lib: score_docs(docs, lib, embeddings=embeddings, weights=weights,
                                                features=features)[0],
        "tfidf-centroid": lambda lib: centroid_scores(features, lib),
        "tfidf-svm": lambda lib: svm_scores(features, lib),
    }
    seconds = dict.fromkeys(METHODS, 0.0)
    results = []
    for area in sorted(by_area):
        members = by_area[area]
        if len(members) < library_size + k:
            continue
        totals = dict.fromkeys(METHODS, 0.0)
        for _ in range(libraries_per_area):
            lib = np.asarray(sorted(rng.sample(members, library_size)))
            for name, method in methods.items():
                start = time.perf_counter()
                scores = np.asarray(method(lib), dtype=np.float64).copy()
                seconds[name] += time.perf_counter() - start
                scores[lib] = -np.inf  # rank only papers outside the library
                top = np.argsort(-scores, kind="stable")[:k]
                totals[name] += float(np.mean(labels[top] == area))
            if on_library:
                on_library()
        results.append(AreaResult(area, len(members), libraries_per_area,
                                  {m: totals[m] / libraries_per_area for m in METHODS}))
    return RecommendEval(len(docs), library_size, k, libraries_per_area, embedder, results, seconds)
