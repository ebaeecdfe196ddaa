"""Topic taxonomies as data, and the classifier that assigns a paper to one of a taxonomy's labels.

A taxonomy lives in a directory `<name>/` holding `taxonomy.json` (name, description, optional area,
labels with Chinese and English names, descriptions, optional examples) and, once trained, the
classifier: `classifier.json` (feature settings, vocabularies) + `classifier.npz` (weights).
Built-in taxonomies ship in `paperlens/data/taxonomies/`; trained ones go to the user directory
(`$PAPERLENS_HOME/taxonomies`, default ~/.local/share/paperlens/taxonomies).

The classifier is an ensemble of three multinomial logistic regressions (word tf-idf, character n-gram
tf-idf, sentence embedding); its score is their averaged probability. Everything is stored as arrays
and plain JSON (no pickles), and prediction is numpy only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paperlens.core.paths import PACKAGE_DATA
from paperlens.enrich.models.lines import abstract_lines
from paperlens.sources.base import SourceError

BUILTIN_DIR = PACKAGE_DATA / "taxonomies"
DEFAULT_TAXONOMY = "llm-2026"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class TaxonomyError(ValueError):
    pass


def user_dir() -> Path:
    home = os.environ.get("PAPERLENS_HOME")
    base = Path(home) if home else Path.home() / ".local" / "share" / "paperlens"
    return base / "taxonomies"


def active_taxonomy_name() -> str:
    return os.environ.get("PAPERLENS_TAXONOMY") or DEFAULT_TAXONOMY


# -- records -------------------------------------------------------------------------------------
def keyword_text(keywords: Sequence[str] | str | None) -> str:
    """Author keywords as one string ("a ; b ; c"); a string is split at commas and semicolons."""
    if isinstance(keywords, str):
        keywords = [k for k in re.split(r"[,;]", keywords) if k.strip()]
    return " ; ".join(k.strip() for k in keywords or [])


def record_text(title: str | None, abstract: str | None, keywords: Sequence[str] | str | None = None) -> str:
    """The text classifiers read: title, abstract and author keywords."""
    parts = [title or "", abstract or "", keyword_text(keywords)]
    return " . ".join(p for p in parts if p)


# -- taxonomy --------------------------------------------------------------------------------------
@dataclass
class Label:
    id: str
    zh: str
    en: str
    description: str = ""
    examples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "zh": self.zh, "en": self.en, "description": self.description}
        if self.examples:
            data["examples"] = self.examples
        return data


@dataclass
class Taxonomy:
    name: str
    labels: list[Label]
    description: str = ""
    area: dict[str, str] | None = None  # {"zh": ..., "en": ...}: the broader area every label belongs to
    directory: Path | None = None
    version: str = "1"
    _classifier: TopicClassifier | None = None

    @property
    def label_ids(self) -> list[str]:
        return [label.id for label in self.labels]

    def label(self, label_id: str) -> Label | None:
        return next((label for label in self.labels if label.id == label_id), None)

    @property
    def area_label(self) -> str | None:
        return (self.area or {}).get("zh") or (self.area or {}).get("en")

    @property
    def trained(self) -> bool:
        return self.directory is not None and (self.directory / "classifier.npz").exists()

    @property
    def classifier(self) -> TopicClassifier:
        if self._classifier is None:
            if not self.trained:
                raise TaxonomyError(f"taxonomy {self.name!r} has no trained classifier "
                                    f"(train one: paperlens taxonomy train {self.name} --from LABELLED.jsonl)")
            self._classifier = TopicClassifier.load(self.directory)
        return self._classifier

    def classify(self, records: Sequence[dict[str, Any]]) -> list[tuple[str, float]]:
        """(label id, probability) for each record (dicts with abstract and optional title/keywords)."""
        if not records:
            return []
        proba = self.classifier.predict_proba(records)
        best = proba.argmax(axis=1)
        classes = self.classifier.classes
        return [(classes[i], float(proba[row, i])) for row, i in enumerate(best)]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "description": self.description, "area": self.area,
                "labels": [label.to_dict() for label in self.labels]}

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "taxonomy.json").write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n",
                                                 encoding="utf-8")
        self.directory = directory

    @classmethod
    def from_dir(cls, directory: Path) -> Taxonomy:
        path = directory / "taxonomy.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            labels = [Label(id=item["id"], zh=item.get("zh") or item["id"], en=item.get("en") or item["id"],
                            description=item.get("description", ""), examples=list(item.get("examples", [])))
                      for item in data["labels"]]
            return cls(name=data["name"], labels=labels, description=data.get("description", ""),
                       area=data.get("area"), directory=directory, version=str(data.get("version", "1")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TaxonomyError(f"{path}: not a valid taxonomy ({type(exc).__name__}: {exc})") from exc


def search_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    return [*extra, user_dir(), BUILTIN_DIR]


def list_taxonomies(extra: Iterable[Path] = ()) -> list[Taxonomy]:
    """Every taxonomy found; a user taxonomy hides a built-in one of the same name."""
    seen: dict[str, Taxonomy] = {}
    for base in search_dirs(extra):
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            if (child / "taxonomy.json").exists():
                taxonomy = Taxonomy.from_dir(child)
                seen.setdefault(taxonomy.name, taxonomy)
    return list(seen.values())


def load_taxonomy(name: str | None = None, extra: Iterable[Path] = ()) -> Taxonomy:
    name = name or active_taxonomy_name()
    for base in search_dirs(extra):
        if (base / name / "taxonomy.json").exists():
            return Taxonomy.from_dir(base / name)
    known = ", ".join(t.name for t in list_taxonomies(extra)) or "none"
    raise TaxonomyError(f"unknown taxonomy {name!r}; known: {known}")


# -- classifier ------------------------------------------------------------------------------------
WORD_SETTINGS = {"analyzer": "word", "ngram_range": [1, 2], "min_df": 2, "token_pattern": r"(?u)\b\w[\w-]*\w\b|\b\w\b"}
CHAR_SETTINGS = {"analyzer": "char_wb", "ngram_range": [3, 5], "min_df": 3}
# Author keywords on their own, as character n-grams ("LLM", "LLMs", "large language model" overlap).
KEYWORD_SETTINGS = {"analyzer": "char_wb", "ngram_range": [3, 5], "min_df": 2}
TFIDF_SETTINGS = {"words": WORD_SETTINGS, "chars": CHAR_SETTINGS, "keywords": KEYWORD_SETTINGS}
DEFAULT_C = {"words": 10.0, "chars": 10.0, "keywords": 10.0, "embedding": 10.0}
DEFAULT_WEIGHTS = {"words": 1.0, "chars": 1.0, "keywords": 0.5, "embedding": 1.0}
DEFAULT_BLOCKS = ("words", "chars", "keywords")


class _Tfidf:
    """Sublinear tf-idf with a fixed vocabulary: rebuilt exactly from stored arrays."""

    def __init__(self, settings: dict[str, Any], vocabulary: list[str], idf: np.ndarray):
        from sklearn.feature_extraction.text import CountVectorizer

        self.settings = settings
        self.vocabulary = vocabulary
        self.idf = idf
        options = {"analyzer": settings["analyzer"], "ngram_range": tuple(settings["ngram_range"]), "lowercase": True}
        if settings["analyzer"] == "word":
            options["token_pattern"] = settings["token_pattern"]
        self.counter = CountVectorizer(vocabulary={t: i for i, t in enumerate(vocabulary)}, **options)

    @classmethod
    def fit(cls, settings: dict[str, Any], texts: Sequence[str]) -> _Tfidf:
        from sklearn.feature_extraction.text import TfidfVectorizer

        options = {"analyzer": settings["analyzer"], "ngram_range": tuple(settings["ngram_range"]),
                   "min_df": settings["min_df"], "sublinear_tf": True, "lowercase": True}
        if settings["analyzer"] == "word":
            options["token_pattern"] = settings["token_pattern"]
        vectorizer = TfidfVectorizer(**options).fit(texts)
        vocabulary = vectorizer.get_feature_names_out().tolist()
        return cls(settings, vocabulary, vectorizer.idf_.astype(np.float64))

    def transform(self, texts: Sequence[str]):
        from sklearn.preprocessing import normalize

        counts = self.counter.transform(texts).astype(np.float64)
        counts.data = 1.0 + np.log(counts.data)
        return normalize(counts.multiply(self.idf).tocsr())


def _softmax(scores: np.ndarray) -> np.ndarray:
    if scores.shape[1] == 1:  # binary logistic regression stores one column
        scores = np.hstack([-scores, scores]) / 2
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass
class TopicClassifier:
    classes: list[str]
    embedder: str | None
    tfidf: dict[str, _Tfidf]
    coef: dict[str, np.ndarray]
    intercept: dict[str, np.ndarray]
    weights: dict[str, float]

    @classmethod
    def train(cls, records: Sequence[dict[str, Any]], labels: Sequence[str], *, embedder: str | None = None,
              blocks: Sequence[str] | None = None, C: dict[str, float] | None = None,
              weights: dict[str, float] | None = None, vectors: np.ndarray | None = None) -> TopicClassifier:
        """`blocks`: feature blocks, each with its own logistic regression; their probabilities are averaged.
        By default words, characters and author keywords, plus "embedding" (the `embedder`'s vectors of
        title + abstract) when an embedder is named: on the seed papers it added nothing to the tf-idf
        blocks (docs/benchmarks.md, Topics).
        `vectors`: precomputed embeddings of `records` (saves re-encoding during cross-validation)."""
        from sklearn.linear_model import LogisticRegression

        classes = sorted(set(labels))
        if len(classes) < 2:
            raise TaxonomyError(f"need at least two labels to train, got {classes}")
        C = {**DEFAULT_C, **(C or {})}
        if blocks is None:
            blocks = DEFAULT_BLOCKS + (("embedding",) if embedder else ())
        texts = _block_texts(records)
        y = np.array([classes.index(label) for label in labels])
        tfidf: dict[str, _Tfidf] = {}
        coef, intercept = {}, {}
        for block in blocks:
            if block == "embedding":
                if embedder is None:
                    continue
                features, rows = (vectors if vectors is not None else embed_records(records, embedder)), None
            elif block in TFIDF_SETTINGS:
                rows = [i for i, text in enumerate(texts[block]) if text] if block == "keywords" else None
                block_texts = texts[block] if rows is None else [texts[block][i] for i in rows]
                if block == "keywords" and len({labels[i] for i in rows}) < len(classes):
                    continue  # too few papers with keywords to learn every label from them
                try:
                    tfidf[block] = _Tfidf.fit(TFIDF_SETTINGS[block], block_texts)
                except ValueError:  # no term occurs often enough (tiny or keyword-less training sets)
                    if block == "keywords":
                        continue
                    raise
                features = tfidf[block].transform(block_texts)
            else:
                raise TaxonomyError(f"unknown feature block {block!r}")
            model = LogisticRegression(C=C[block], tol=1e-3, max_iter=500).fit(
                features, y if rows is None else y[rows])
            coef[block] = model.coef_.astype(np.float32)
            intercept[block] = model.intercept_.astype(np.float32)
        from paperlens.enrich.models.embed import get_embedder

        embedder_name = get_embedder(embedder).name if "embedding" in coef else None
        return cls(classes, embedder_name, tfidf, coef, intercept, {**DEFAULT_WEIGHTS, **(weights or {})})

    def predict_proba(self, records: Sequence[dict[str, Any]], vectors: np.ndarray | None = None) -> np.ndarray:
        texts = _block_texts(records)
        total = np.zeros((len(records), len(self.classes)))
        weight_sum = np.zeros((len(records), 1))
        for block, coef in self.coef.items():
            if block == "embedding":
                features = vectors if vectors is not None else embed_records(records, self.embedder)
                scores = features @ coef.T + self.intercept[block]
            else:
                scores = np.asarray(self.tfidf[block].transform(texts[block]) @ coef.T) + self.intercept[block]
            # A paper without author keywords gets no vote from the keyword block (it would only add the prior).
            present = (np.array([bool(t) for t in texts[block]], dtype=float)[:, None] if block == "keywords"
                       else np.ones((len(records), 1)))
            total += self.weights[block] * present * _softmax(scores)
            weight_sum += self.weights[block] * present
        return total / np.maximum(weight_sum, 1e-12)

    def predict(self, records: Sequence[dict[str, Any]], vectors: np.ndarray | None = None) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(records, vectors).argmax(axis=1)]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        for block in self.coef:
            arrays[f"{block}.coef"] = self.coef[block]
            arrays[f"{block}.intercept"] = self.intercept[block]
        for block, tfidf in self.tfidf.items():
            arrays[f"{block}.idf"] = tfidf.idf.astype(np.float32)
        np.savez_compressed(directory / "classifier.npz", **arrays)
        meta = {"classes": self.classes, "embedder": self.embedder, "weights": self.weights,
                "blocks": list(self.coef),
                "tfidf": {b: {"settings": t.settings, "vocabulary": t.vocabulary} for b, t in self.tfidf.items()}}
        (directory / "classifier.json").write_text(json.dumps(meta, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> TopicClassifier:
        try:
            meta = json.loads((directory / "classifier.json").read_text(encoding="utf-8"))
            with np.load(directory / "classifier.npz") as arrays:
                coef = {b: arrays[f"{b}.coef"] for b in meta["blocks"]}
                intercept = {b: arrays[f"{b}.intercept"] for b in meta["blocks"]}
                tfidf = {b: _Tfidf(spec["settings"], spec["vocabulary"], arrays[f"{b}.idf"].astype(np.float64))
                         for b, spec in meta["tfidf"].items()}
        except (OSError, ValueError, KeyError) as exc:
            raise TaxonomyError(f"{directory}: unreadable classifier ({type(exc).__name__}: {exc})") from exc
        return cls(meta["classes"], meta["embedder"], tfidf, coef, intercept, meta["weights"])


def _block_texts(records: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    full = [record_text(r.get("title"), r.get("abstract"), r.get("keywords")) for r in records]
    return {"words": full, "chars": full, "keywords": [keyword_text(r.get("keywords")) for r in records]}


def embed_records(records: Sequence[dict[str, Any]], embedder: str | None) -> np.ndarray:
    from paperlens.enrich.models.embed import get_embedder, paper_text

    return get_embedder(embedder).encode([paper_text(r.get("title") or "", r.get("abstract") or "") for r in records])


# -- evaluation ------------------------------------------------------------------------------------
def metrics(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    labels = sorted(set(gold))
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    return {
        "n": len(gold),
        "accuracy": float(accuracy_score(gold, predicted)),
        "macro_f1": float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        "per_label": [{"label": label, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                      for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)],
    }


def cross_validate(records: Sequence[dict[str, Any]], labels: Sequence[str], *, folds: int = 5, seed: int = 0,
                   embedder: str | None = None, vectors: np.ndarray | None = None,
                   **train_options) -> dict[str, Any]:
    """Stratified k-fold: every paper is predicted by a model that never saw it."""
    from sklearn.model_selection import StratifiedKFold

    labels = list(labels)
    if vectors is None and embedder is not None and "embedding" in (train_options.get("blocks") or ("embedding",)):
        vectors = embed_records(records, embedder)
    predicted = [""] * len(records)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(np.zeros(len(labels)), labels):
        model = TopicClassifier.train([records[i] for i in train_idx], [labels[i] for i in train_idx],
                                      embedder=embedder, vectors=None if vectors is None else vectors[train_idx],
                                      **train_options)
        for i, label in zip(test_idx, model.predict([records[i] for i in test_idx],
                                                    None if vectors is None else vectors[test_idx]), strict=True):
            predicted[i] = label
    result = metrics(labels, predicted)
    result.update({"folds": folds, "seed": seed})
    return result


# -- labelled / unlabelled JSONL ----------------------------------------------------------------------
def read_jsonl_records(path: Path, *, need_label: bool = False) -> list[dict[str, Any]]:
    """Lines with `abstract` (required), optional `title` and `keywords`, and (when `need_label`) `label`
    or `topic.label`. A bad line raises TaxonomyError naming FILE:LINE."""
    if not Path(path).is_file():
        raise TaxonomyError(f"{path}: no such file")
    records = []
    try:
        for number, problem, item in abstract_lines(path):
            where = f"{path}:{number}"
            if problem:
                raise TaxonomyError(f"{where}: {problem}")
            keywords = item.get("keywords")
            if keywords is not None and not (isinstance(keywords, str) or (
                    isinstance(keywords, list) and all(isinstance(k, str) for k in keywords))):
                raise TaxonomyError(f"{where}: 'keywords' must be a list of strings or a string")
            if need_label:
                label = item.get("label")
                if label is None and isinstance(item.get("topic"), dict):
                    label = item["topic"].get("label")
                if not isinstance(label, str) or not label.strip():
                    raise TaxonomyError(f"{where}: missing 'label' (or 'topic.label')")
                item["_label"] = label.strip()
            records.append(item)
    except OSError as exc:
        raise TaxonomyError(f"{path}: {exc.strerror or exc}") from exc
    except SourceError as exc:  # past an input limit (PAPERLENS_MAX_DECOMPRESSED_BYTES, ...)
        raise TaxonomyError(f"{exc.path}:{exc.line}: {exc.message}") from exc
    if not records:
        raise TaxonomyError(f"{path}: no records")
    return records


def train_taxonomy(name: str, records: Sequence[dict[str, Any]], labels: Sequence[str], directory: Path,
                   *, embedder: str | None = None, description: str = "",
                   base: Taxonomy | None = None) -> Taxonomy:
    """Train a classifier on labelled records and save taxonomy + classifier under `directory/name`.
    Label names come from `base` (an existing taxonomy of that name) when it knows them."""
    if not NAME_RE.match(name):
        raise TaxonomyError(f"bad taxonomy name {name!r}: use letters, digits, '.', '_' or '-'")
    classifier = TopicClassifier.train(records, labels, embedder=embedder)
    known = {label.id: label for label in (base.labels if base else [])}
    taxonomy = Taxonomy(
        name=name, description=description or (base.description if base else f"trained on {len(records)} papers"),
        area=base.area if base else None,
        labels=[known.get(label) or Label(id=label, zh=label, en=label) for label in classifier.classes],
        version=base.version if base else "1")
    target = directory / name
    taxonomy.save(target)
    classifier.save(target)
    taxonomy._classifier = classifier
    return taxonomy


# -- discovery --------------------------------------------------------------------------------------
@dataclass
class Cluster:
    name: str
    terms: list[str]
    count: int
    paper_ids: list[str]


def distinctive_terms(texts_by_cluster: Sequence[str], top: int = 3) -> list[list[str]]:
    """Class-based tf-idf with a lift: terms frequent in one cluster's text and rarer in the other
    clusters' (score = tf_c * log(tf_c / tf_rest)), so words shared by the whole selection never name a cluster."""
    from sklearn.feature_extraction.text import CountVectorizer

    counter = CountVectorizer(stop_words="english", ngram_range=(1, 2), min_df=1,
                              token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z-]+[a-zA-Z]\b")
    try:
        counts = counter.fit_transform(texts_by_cluster).toarray().astype(np.float64)
    except ValueError:  # no usable words at all
        return [[] for _ in texts_by_cluster]
    vocabulary = counter.get_feature_names_out()
    row_totals = np.maximum(counts.sum(axis=1, keepdims=True), 1)
    tf = counts / row_totals
    rest_counts = counts.sum(axis=0, keepdims=True) - counts
    rest_totals = np.maximum(counts.sum() - row_totals, 1)
    smoothing = 1.0 / max(counts.sum(), 1)
    rest = rest_counts / rest_totals
    scores = np.where(counts >= 2, tf * np.log((tf + smoothing) / (rest + smoothing)), 0.0)
    out = []
    for row in scores:
        chosen: list[str] = []
        for index in np.argsort(-row):
            term = vocabulary[index]
            if row[index] <= 0 or len(chosen) >= top:
                break
            # skip a unigram already inside a chosen bigram, a bigram containing a chosen word, and plurals
            words = set(term.split())
            if any(words & set(c.split()) or term.rstrip("s") == c.rstrip("s") for c in chosen):
                continue
            chosen.append(term)
        out.append(chosen)
    return out


def discover(paper_ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray, k: int,
             seed: int = 0) -> list[Cluster]:
    """k-means over the embeddings; clusters named by their distinctive terms, largest first."""
    from sklearn.cluster import KMeans

    if k < 1:
        raise TaxonomyError("k must be at least 1")
    if len(paper_ids) < k:
        raise TaxonomyError(f"only {len(paper_ids)} papers selected; cannot form {k} clusters")
    assignment = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(vectors)
    members = [np.flatnonzero(assignment == c) for c in range(k)]
    terms = distinctive_terms([" ".join(texts[i] for i in idx) for idx in members])
    clusters = [Cluster(name=" / ".join(t) or f"cluster {c + 1}", terms=t, count=len(idx),
                        paper_ids=[paper_ids[i] for i in idx])
                for c, (idx, t) in enumerate(zip(members, terms, strict=True))]
    return sorted(clusters, key=lambda c: -c.count)
