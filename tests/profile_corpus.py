"""Made-up papers on two topics, for the profile, recommend and daily tests."""

from __future__ import annotations

import json
import random
from pathlib import Path

TOPICS = {
    "graphs": ["graph", "node", "edge", "message passing", "hypergraph", "graph neural network", "spectral",
               "neighbourhood aggregation", "link prediction", "molecule", "over-smoothing", "adjacency"],
    "speech": ["speech", "acoustic", "phoneme", "speaker", "waveform", "spectrogram", "automatic speech recognition",
               "prosody", "vocoder", "utterance", "transcription", "audio"],
}
FILLER = ["we propose", "a method", "that improves", "results show", "on benchmarks", "with fewer parameters",
          "in experiments", "compared to baselines", "we study", "the model"]


def made_up(topic: str, n: int, seed: int, start: int = 0) -> list[dict]:
    rng = random.Random(seed)
    words = TOPICS[topic]
    out = []
    for i in range(start, start + n):
        title = f"{rng.choice(words).title()} {rng.choice(words)} and {rng.choice(words)} study {i}"
        abstract = " ".join(rng.choice(words) if rng.random() < 0.5 else rng.choice(FILLER) for _ in range(60)) + "."
        out.append({"title": title, "abstract": abstract, "authors": [f"Ann {topic.title()}{'abcdefg'[i % 7]}"],
                    "year": 2025, "date": "2025-11-0" + str(1 + i % 9), "topic": topic})
    return out


def write_jsonl(path: Path, papers: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for paper in papers:
            row = {k: v for k, v in paper.items() if k != "topic"}
            handle.write(json.dumps(row) + "\n")
    return path


def write_bibtex(path: Path, papers: list[dict]) -> Path:
    entries = []
    for i, paper in enumerate(papers):
        authors = " and ".join(paper["authors"])
        entries.append(f"@article{{lib{i},\n  title = {{{paper['title']}}},\n  author = {{{authors}}},\n"
                       f"  year = {{{paper['year']}}},\n  abstract = {{{paper['abstract']}}},\n}}\n")
    path.write_text("\n".join(entries), encoding="utf-8")
    return path
