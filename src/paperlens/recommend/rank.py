"""Rank papers for a reader: a per-profile linear model plus nearest-library-paper similarity, keyword and
author rules and a recency decay, each result with the reasons it ranks where it does.

The model is arxiv-sanity's: a linear SVM on tf-idf of title, abstract and keywords, trained with the
library (and 👍) as positives against every other paper (the background, 👎 weighted up). Beside it,
zotero-arxiv-daily's signal: the cosine similarity of a candidate's embedding to its nearest library
papers. Scores are standardised (z-scores over the candidates) and added with the weights in `Weights`;
`paperlens eval recommend` measures the mix against the baselines."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from paperlens.core.words import strip_accents

_WORD = r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b"


@dataclass
class Doc:
    """What ranking reads of a paper."""

    id: str
    title: str
    text: str  # title, abstract and keywords
    authors: list[str] = field(default_factory=list)
    date: str | None = None
    categories: list[str] = field(default_factory=list)


@dataclass
class Weights:
    svm: float = 1.0  # tf-idf linear model
    knn: float = 0.7  # mean similarity (embeddings and tf-idf) to the nearest library papers
    knn_k: int = 10
    include: float = 1.0  # per matched include keyword
    author: float = 10.0  # a followed author: pinned to the top (issue 17)
    recency: float = 0.5  # at age 0; halves every `half_life` days
    half_life: float = 7.0
    svm_c: float = 0.01


@dataclass
class Ranked:
    id: str
    title: str
    score: float
    reasons: list[str]

    def as_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "score": round(self.score, 4), "reasons": self.reasons}


def tfidf_matrix(texts: Sequence[str], max_features: int = 20000):
    """arxiv-sanity's tf-idf (words and bigrams, sublinear tf); a corpus too small for its document
    frequency cut-offs keeps every term."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = len(texts)
    options = dict(strip_accents="unicode", stop_words="english", token_pattern=_WORD, ngram_range=(1, 2),
                   max_features=max_features, sublinear_tf=True)
    if n >= 200:
        options.update(max_df=0.1, min_df=5)
    try:
        return TfidfVectorizer(**options).fit_transform(texts)
    except ValueError:  # nothing left after the cut-offs (a handful of tiny texts)
        options.update(max_df=1.0, min_df=1, stop_words=None)
        return TfidfVectorizer(**options).fit_transform([t or "empty" for t in texts])


def svm_scores(features, positive: np.ndarray, negative: np.ndarray | None = None, c: float = 0.01) -> np.ndarray:
    """Decision values of a linear SVM, positives against everything else (explicit negatives count 5x)."""
    from sklearn.svm import LinearSVC

    y = np.zeros(features.shape[0], dtype=np.int8)
    y[positive] = 1
    if y.sum() == 0 or y.sum() == len(y):
        return np.zeros(features.shape[0])
    weight = np.ones(len(y))
    if negative is not None and len(negative):
        weight[negative] = 5.0
    model = LinearSVC(C=c, class_weight="balanced", max_iter=10000, tol=1e-6)
    model.fit(features, y, sample_weight=weight)
    return model.decision_function(features)


def centroid_scores(features, positive: np.ndarray) -> np.ndarray:
    centre = np.asarray(features[positive].mean(axis=0)).ravel()
    return np.asarray(features @ centre).ravel()


def nearest(similarity: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the mean of its k largest similarities, and the column of the largest."""
    k = max(1, min(k, similarity.shape[1]))
    top = np.partition(similarity, -k, axis=1)[:, -k:]
    return top.mean(axis=1), similarity.argmax(axis=1)


def zscore(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    ref = values[mask] if mask is not None and mask.any() else values
    spread = ref.std()
    return (values - ref.mean()) / (spread if spread > 1e-12 else 1.0)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def _phrase(term: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, term.lower().split())) + r"(?!\w)")


def author_key(name: str) -> str:
    """'Yann LeCun', 'LeCun, Yann' and 'Y. LeCun' meet at 'lecun y' (accents dropped: 'Müller' is 'muller')."""
    name = strip_accents(name.strip())
    if "," in name:
        last, _, first = name.partition(",")
    else:
        parts = name.split()
        last, first = (parts[-1], " ".join(parts[:-1])) if parts else ("", "")
    return f"{re.sub(r'[^a-z0-9]', '', last.lower())} {first.strip()[:1].lower()}".strip()


def score_docs(docs: Sequence[Doc], positive: Sequence[int], *, negative: Sequence[int] = (),
               embeddings: np.ndarray | None = None, weights: Weights | None = None,
               features=None) -> tuple[np.ndarray, dict]:
    """Model scores of every doc (library and background included) and the parts that made them.
    `features`: the docs' tf-idf matrix when already made (tfidf_matrix)."""
    weights = weights or Weights()
    pos = np.asarray(sorted(set(positive)), dtype=np.int64)
    neg = np.asarray(sorted(set(negative) - set(positive)), dtype=np.int64)
    if features is None:
        features = tfidf_matrix([d.text for d in docs])
    others = np.ones(len(docs), dtype=bool)
    others[pos] = False
    svm = zscore(svm_scores(features, pos, neg, weights.svm_c), others)
    lib_text = np.asarray((features @ features[pos].T).todense())
    parts = {"svm": svm}
    if embeddings is not None and len(embeddings):
        emb = _normalised(np.asarray(embeddings, dtype=np.float32))
        sim = emb @ emb[pos].T
    else:
        sim = lib_text
    near_emb, which = nearest(sim, weights.knn_k)
    near_text, _ = nearest(lib_text, weights.knn_k)
    knn = zscore(near_emb, others) + zscore(near_text, others)
    parts.update(knn=knn, nearest=pos[which], nearest_sim=sim[np.arange(len(docs)), which])
    total = weights.svm * svm + weights.knn * knn
    return total, parts


def rank(docs: Sequence[Doc], positive: Sequence[int], candidates: Sequence[int], *, negative: Sequence[int] = (),
         embeddings: np.ndarray | None = None, include: Sequence[str] = (), exclude: Sequence[str] = (),
         authors: Sequence[str] = (), today: date | None = None, limit: int = 20,
         weights: Weights | None = None) -> list[Ranked]:
    """The best `limit` of `candidates` (indexes into docs) for a library `positive`, with reasons."""
    weights = weights or Weights()
    if not len(positive) or not len(candidates):
        return []
    total, parts = score_docs(docs, positive, negative=negative, embeddings=embeddings, weights=weights)
    include_res = [(term, _phrase(term)) for term in include if term.strip()]
    exclude_res = [(term, _phrase(term)) for term in exclude if term.strip()]
    followed = {author_key(a): a for a in authors if a.strip()}
    scored: list[tuple[float, int, list[str]]] = []
    for i in candidates:
        doc = docs[i]
        low = doc.text.lower()
        if any(rx.search(low) for _, rx in exclude_res):
            continue
        reasons: list[str] = []
        score = float(total[i])
        lib = docs[int(parts["nearest"][i])]
        reasons.append(f"close to {lib.title!r} (similarity {float(parts['nearest_sim'][i]):.2f})")
        matched = [term for term, rx in include_res if rx.search(low)]
        if matched:
            score += weights.include * len(matched)
            reasons.append("matches " + ", ".join(repr(t) for t in matched))
        names = [followed[key] for key in (author_key(a) for a in doc.authors) if key in followed]
        if names:
            score += weights.author * len(names)
            reasons.append("followed author " + ", ".join(dict.fromkeys(names)))
        if today is not None and doc.date:
            age = _age_days(doc.date, today)
            if age is not None:
                score += weights.recency * math.pow(0.5, age / weights.half_life)
                if age <= 1:
                    reasons.append("new today" if age == 0 else "new yesterday")
        reasons.append(f"library model {float(parts['svm'][i]):+.2f}")
        scored.append((score, i, reasons))
    scored.sort(key=lambda item: (-item[0], docs[item[1]].id))
    return [Ranked(docs[i].id, docs[i].title, s, reasons) for s, i, reasons in scored[:limit]]


def _age_days(value: str, today: date) -> int | None:
    try:
        day = date.fromisoformat(value[:10]) if len(value) >= 10 else date.fromisoformat(value[:7] + "-01")
    except ValueError:
        return None
    return max(0, (today - day).days)
