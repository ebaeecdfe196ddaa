"""The static embedder against an independent reference: the mean of its table rows over the tokenizer's ids,
L2-normalised, row by row."""

from __future__ import annotations

import numpy as np

from paperlens.enrich.models.embed import StaticEmbedder, get_embedder


def _reference(embedder: StaticEmbedder, text: str) -> np.ndarray:
    ids = embedder.tokenizer.encode(text, add_special_tokens=False).ids[: embedder.max_tokens]
    if not ids:
        return np.zeros(embedder.dim, dtype=np.float32)
    vector = np.mean([embedder.table[i] for i in ids], axis=0)
    norm = np.linalg.norm(vector)
    return vector / norm if norm else vector  # tokens with no vector (e.g. [UNK]) give a zero vector


def test_static_vectors_are_the_normalised_mean_of_their_tokens():
    embedder = get_embedder("static")
    assert isinstance(embedder, StaticEmbedder)
    texts = ["Walrus tusks, measured in the wild.", "", "   ", "指令微调与对齐", "word " * 2000,
             "Graph neural networks for molecules"]
    vectors = embedder.encode(texts)
    assert vectors.shape == (len(texts), embedder.dim) and vectors.dtype == np.float32
    for text, vector in zip(texts, vectors, strict=True):
        np.testing.assert_allclose(vector, _reference(embedder, text), atol=1e-5)
    # a batch gives each text the vector it gets alone
    np.testing.assert_allclose(embedder.encode(texts[-1:])[0], vectors[-1], atol=1e-6)
    assert embedder.encode([]).shape == (0, embedder.dim)
