"""Training and evaluating the keyword tagger (enrich/models/keywords.py): the phrase vocabulary from
author keywords, general-text phrase frequencies, the logistic-regression ranker, the seed papers it is
trained on, and hit@k / precision@k / recall@k against author keywords. Inference needs none of this."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperlens.core.paths import PACKAGE_DIR
from paperlens.enrich.models.keywords import (
    DATA_DIR,
    FEATURES,
    MAX_VOCAB_WORDS,
    KeywordModel,
    clean_style,
    ngram_keys,
    phrase_key,
    split_tag,
    split_tags,
)

# ---------------------------------------------------------------- training


def read_abbreviation_file(path: Path = DATA_DIR / "abbreviations.tsv") -> list[tuple[str, str]]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            short, long_form = line.split("\t")
            pairs.append((short.strip(), long_form.strip()))
    return pairs


def read_phrase_file(path: Path = DATA_DIR / "cs_vocabulary.txt") -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def _preferred_form(forms: Counter) -> str:
    # The most common spelling, styled; ties go to the plural-free shortest one for stability.
    best = max(forms.items(), key=lambda kv: (kv[1], -len(kv[0]), kv[0]))[0]
    return clean_style(best)


GENERAL_DF_FILE = DATA_DIR / "general_df.json"


def load_general_df() -> tuple[dict[str, int], int]:
    """Phrase document frequencies over csabstruct abstracts (Apache-2.0), shipped precomputed."""
    data = json.loads(GENERAL_DF_FILE.read_text(encoding="utf-8"))
    return data["df"], data["docs"]


def general_frequencies(texts: Iterable[str], max_words: int = 3, min_df: int = 2,
                        base: tuple[dict[str, int], int] | None = None) -> tuple[dict[str, int], int]:
    """Document frequency of 1..3-word keys over general abstracts: how generic a phrase is."""
    df: Counter = Counter(base[0] if base else {})
    docs = base[1] if base else 0
    for text in texts:
        docs += 1
        df.update(ngram_keys(text, max_words))
    return {k: v for k, v in df.items() if v >= min_df}, docs


@dataclass
class LabeledPaper:
    title: str
    abstract: str
    keywords: list[str]


def tag_keys(keywords: Iterable[str]) -> set[str]:
    keys = set()
    for tag in split_tags(keywords):
        for part in split_tag(tag):
            key = phrase_key(part)
            if key:
                keys.add(key)
    return keys


def build_vocabulary(papers: Sequence[LabeledPaper], handwritten: Sequence[str],
                     abbreviation_pairs: Sequence[tuple[str, str]]) -> tuple[dict, dict]:
    forms: dict[str, Counter] = defaultdict(Counter)
    tag_df: Counter = Counter()
    abbreviations: dict[str, set[str]] = defaultdict(set)
    for paper in papers:
        seen = set()
        for tag in split_tags(paper.keywords):
            parts = split_tag(tag)
            for part in parts:
                key = phrase_key(part)
                if key and len(part.split()) <= MAX_VOCAB_WORDS:
                    forms[key][part.strip()] += 1
                    seen.add(key)
            if len(parts) == 2:
                a, b = (phrase_key(p) for p in parts)
                abbreviations[a].add(b)
                abbreviations[b].add(a)
        tag_df.update(seen)
    vocab = {key: {"form": _preferred_form(f), "tag_df": tag_df[key], "occ": 0, "tagged_occ": 0}
             for key, f in forms.items()}
    for phrase in handwritten:
        key = phrase_key(phrase)
        entry = vocab.setdefault(key, {"form": clean_style(phrase), "tag_df": 0, "occ": 0, "tagged_occ": 0})
        entry["handwritten"] = 1
    for short, long_form in abbreviation_pairs:
        a, b = phrase_key(short), phrase_key(long_form)
        abbreviations[a].add(b)
        abbreviations[b].add(a)
        for key, phrase in ((a, short), (b, long_form)):
            entry = vocab.setdefault(key, {"form": clean_style(phrase), "tag_df": 0, "occ": 0, "tagged_occ": 0})
            entry["handwritten"] = 1
    # How often a vocabulary phrase that occurs in a paper is also one of its tags.
    probe = KeywordModel(vocab, {}, {}, 1)
    for paper in papers:
        keys = tag_keys(paper.keywords)
        present = probe.vocabulary_keys_in(f"{paper.title}. {paper.abstract}" if paper.title else paper.abstract)
        for key in present:
            vocab[key]["occ"] += 1
            if key in keys:
                vocab[key]["tagged_occ"] += 1
    return vocab, {k: sorted(v - {k}) for k, v in abbreviations.items() if v - {k}}


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (as scikit-learn's C=1; intercept not
    penalised): a few lines of numpy instead of importing scikit-learn for 25 weights."""
    A = np.hstack([X, np.ones((len(X), 1))])
    w = np.zeros(A.shape[1])
    penalty = np.full(A.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(A @ w)))
        gradient = A.T @ (p - y) + penalty * w
        hessian = (A * (p * (1 - p))[:, None]).T @ A + np.diag(penalty) + 1e-9 * np.eye(A.shape[1])
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w[:-1], float(w[-1])


def train(papers: Sequence[LabeledPaper], general: tuple[dict[str, int], int] | None = None, folds: int = 5,
          seed: int = 0,
          handwritten: Sequence[str] | None = None,
          abbreviation_pairs: Sequence[tuple[str, str]] | None = None) -> KeywordModel:
    """Vocabulary from all `papers`; the ranker learns on out-of-fold vocabularies so its vocabulary
    features look at inference time as they do on unseen papers."""
    handwritten = read_phrase_file() if handwritten is None else handwritten
    abbreviation_pairs = read_abbreviation_file() if abbreviation_pairs is None else abbreviation_pairs
    general_df, general_docs = general_frequencies((p.abstract for p in papers),
                                                   base=load_general_df() if general is None else general)
    rng = np.random.default_rng(seed)
    fold_of = rng.permutation(len(papers)) % folds
    X_parts, y_parts = [], []
    for fold in range(folds):
        inside = [p for p, f in zip(papers, fold_of, strict=True) if f != fold]
        outside = [p for p, f in zip(papers, fold_of, strict=True) if f == fold]
        vocab, abbreviations = build_vocabulary(inside, handwritten, abbreviation_pairs)
        model = KeywordModel(vocab, abbreviations, general_df, general_docs)
        for paper in outside:
            cands = model.candidates(paper.title, paper.abstract)
            if not cands:
                continue
            keys = tag_keys(paper.keywords)
            X_parts.append(model.features(cands))
            y_parts.append(np.array([1 if c.key in keys else 0 for c in cands]))
    X, y = np.vstack(X_parts), np.concatenate(y_parts)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    coef, intercept = fit_logistic((X - mean) / scale, y)
    vocab, abbreviations = build_vocabulary(papers, handwritten, abbreviation_pairs)
    weights = {"features": list(FEATURES), "mean": mean.tolist(), "scale": scale.tolist(),
               "coef": coef.tolist(), "intercept": intercept}
    return KeywordModel(vocab, abbreviations, general_df, general_docs, weights,
                        meta={"train_papers": len(papers), "general_docs": general_docs,
                              "candidate_rows": int(len(y)), "positive_rows": int(y.sum())})


# ---------------------------------------------------------------- evaluation


def evaluate(predict, papers: Sequence[LabeledPaper], k: int = 5) -> dict[str, float]:
    """hit@k: share of papers with at least one exact (case/plural/hyphen-insensitive) author keyword in the
    top k; precision@k: matches / k; recall@k: author keywords matched / author keywords."""
    hits = matches = 0
    recall_sum = 0.0
    n = 0
    for paper in papers:
        gold = [tag_keys([t]) for t in split_tags(paper.keywords)]
        gold = [g for g in gold if g]
        if not gold:
            continue
        n += 1
        predicted = {phrase_key(p) for p in predict(paper.title, paper.abstract)[:k]}
        matched_pred = sum(1 for p in predicted if any(p in g for g in gold))
        matched_gold = sum(1 for g in gold if g & predicted)
        hits += 1 if matched_pred else 0
        matches += matched_pred
        recall_sum += matched_gold / len(gold)
    n = max(n, 1)
    return {"papers": n, "hit_rate": hits / n, "precision": matches / (k * n), "recall": recall_sum / n}


def seed_papers() -> list[LabeledPaper]:
    """The 002 seed digest's papers that carry author keywords: the training data of the shipped model."""
    from paperlens.sources import read_records

    sample = next((PACKAGE_DIR / "sample").glob("002_*.txt"))
    return [LabeledPaper(p.title, p.abstract, list(p.keywords)) for p in read_records(sample)
            if getattr(p, "keywords", None) and p.abstract]
