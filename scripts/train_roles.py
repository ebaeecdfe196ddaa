"""Train the sentence-role model on CSAbstruct and write it to src/paperlens/data/roles/.

    PYTHONPATH=src python scripts/train_roles.py [--data ../shared/data/csabstruct] [--cache /tmp/roles]

Tunes the regularisation C and the transition weight on dev (the test split is kept aside by the owners),
then trains the lexical CRF on train and picks, on dev, how much of it to mix into the regression's scores.
Embeddings are cached as .npy in --cache to make reruns fast."""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression

from paperlens.enrich.models.roles import (
    MODEL_DIR,
    ROLES,
    CueTagger,
    RoleModel,
    TfidfVocabulary,
    crf_features,
    dense_features,
    viterbi,
)

# The embedder the model reads; its full name goes into model.json and roles.embed_sentences uses the same one at
# run time. "static" (the distilled token table) is hundreds of times faster than the MiniLM transformer.
DEFAULT_EMBEDDER = "static"
CRF_FILE = "crf.crfsuite"

ROOT = Path(__file__).resolve().parents[1]


def read_split(path: Path) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{number}: not JSON ({exc})") from exc
            if len(record["sentences"]) != len(record["labels"]):
                raise SystemExit(f"{path}:{number}: {len(record['sentences'])} sentences, {len(record['labels'])} labels")
            out.append(record)
    return out


def embeddings_for(records: list[dict], cache: Path | None, embedder: str) -> np.ndarray:
    sentences = [s for r in records for s in r["sentences"]]
    key = hashlib.sha256(("\n".join(sentences) + embedder).encode("utf-8")).hexdigest()[:16]
    path = cache / f"emb_{key}.npy" if cache else None
    if path and path.exists():
        return np.load(path)
    from paperlens.enrich.models.embed import get_embedder

    vectors = get_embedder(embedder).encode(sentences)
    if path:
        cache.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def design(records: list[dict], embeddings: np.ndarray, vocabulary: TfidfVocabulary, dense_scale: float):
    blocks, offset = [], 0
    for record in records:
        n = len(record["sentences"])
        blocks.append(dense_features(embeddings[offset:offset + n]))
        offset += n
    dense = np.vstack(blocks) * dense_scale
    sparse = vocabulary.transform([s for r in records for s in r["sentences"]])
    return hstack([csr_matrix(dense), sparse]).tocsr()


def transition_scores(records: list[dict], smoothing: float = 1.0):
    k = len(ROLES)
    index = {label: i for i, label in enumerate(ROLES)}
    trans = np.full((k, k), smoothing)
    start = np.full(k, smoothing)
    end = np.full(k, smoothing)
    for record in records:
        ids = [index[label] for label in record["labels"]]
        start[ids[0]] += 1
        end[ids[-1]] += 1
        for a, b in zip(ids, ids[1:], strict=False):
            trans[a, b] += 1
    # Log of P(next | previous) minus log P(next): the part the per-sentence classifier does not know.
    prior = trans.sum(axis=0) / trans.sum()
    trans_log = np.log(trans / trans.sum(axis=1, keepdims=True)) - np.log(prior)[None, :]
    start_log = np.log(start / start.sum()) - np.log(prior)
    end_log = np.log(end / end.sum()) - np.log(prior)
    return trans_log, start_log, end_log


def sequence_accuracy(records, log_probs, trans, start, end, weight):
    correct = total = 0
    offset = 0
    for record in records:
        n = len(record["sentences"])
        path = viterbi(log_probs[offset:offset + n], weight * trans, weight * start, weight * end)
        correct += sum(ROLES[p] == gold for p, gold in zip(path, record["labels"], strict=True))
        total += n
        offset += n
    return correct / total


def train_crf(records: list[dict], path: Path, c1: float, c2: float) -> None:
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    for record in records:
        trainer.append(crf_features(record["sentences"]), record["labels"])
    trainer.set_params({"c1": c1, "c2": c2, "max_iterations": 200, "feature.possible_transitions": True})
    trainer.train(str(path))


def fit(x, y, c):
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(x, y)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "csabstruct")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/paperlens-roles-cache"))
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--c", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0])
    parser.add_argument("--dense-scale", type=float, nargs="+", default=[1.0])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0, 1.5])
    parser.add_argument("--crf-c1", type=float, default=0.1, help="L1 penalty of the CRF (smaller model file)")
    parser.add_argument("--crf-c2", type=float, default=1.0)
    parser.add_argument("--crf-weights", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    parser.add_argument("--embedder", default=DEFAULT_EMBEDDER, help="static (default) or minilm")
    parser.add_argument("--version", default="3")
    args = parser.parse_args()

    train = read_split(args.data / "train.jsonl")
    dev = read_split(args.data / "dev.jsonl")
    t0 = time.time()
    from paperlens.enrich.models.embed import get_embedder

    embedder_name = get_embedder(args.embedder).name
    train_emb = embeddings_for(train, args.cache, args.embedder)
    dev_emb = embeddings_for(dev, args.cache, args.embedder)
    print(f"embeddings ready in {time.time() - t0:.0f}s")
    vocabulary = TfidfVocabulary.fit([s for r in train for s in r["sentences"]])
    y_train = np.array([ROLES.index(label) for r in train for label in r["labels"]])
    y_dev = np.array([ROLES.index(label) for r in dev for label in r["labels"]])
    trans, start, end = transition_scores(train)

    best = None
    for scale in args.dense_scale:
        x_train = design(train, train_emb, vocabulary, scale)
        x_dev = design(dev, dev_emb, vocabulary, scale)
        for c in args.c:
            clf = fit(x_train, y_train, c)
            log_probs = clf.predict_log_proba(x_dev)
            per_sentence = float((log_probs.argmax(1) == y_dev).mean())
            for weight in args.weights:
                acc = sequence_accuracy(dev, log_probs, trans, start, end, weight)
                print(f"scale={scale} C={c} weight={weight}: dev acc {acc:.4f} (no sequence {per_sentence:.4f})")
                if best is None or acc > best[0]:
                    best = (acc, scale, c, weight, clf, log_probs)
    acc, scale, c, weight, clf, dev_log_probs = best
    linear_acc = acc
    print(f"best regression: scale={scale} C={c} weight={weight} dev acc {acc:.4f}")

    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    train_crf(train, args.out / CRF_FILE, args.crf_c1, args.crf_c2)
    tagger = CueTagger(args.out / CRF_FILE, ROLES)
    cue_log_probs = np.vstack([tagger.log_marginals(r["sentences"]) for r in dev])
    print(f"CRF trained in {time.time() - t0:.0f}s ({(args.out / CRF_FILE).stat().st_size / 1e6:.1f} MB)")
    best_mix = None
    for share in args.crf_weights:
        mixed = (1 - share) * dev_log_probs + share * cue_log_probs
        for w in args.weights:
            mix_acc = sequence_accuracy(dev, mixed, trans, start, end, w)
            print(f"CRF share={share} weight={w}: dev acc {mix_acc:.4f}")
            if best_mix is None or mix_acc > best_mix[0]:
                best_mix = (mix_acc, share, w)
    acc, share, weight = best_mix
    print(f"best: scale={scale} C={c} CRF share={share} weight={weight} dev acc {acc:.4f} "
          f"(regression alone {linear_acc:.4f})")

    n_dense = dense_features(train_emb[:1]).shape[1]
    coef = clf.coef_.T  # (features, labels)
    model = RoleModel(
        labels=ROLES, vocabulary=vocabulary,
        dense_weights=coef[:n_dense] * scale, sparse_weights=coef[n_dense:], bias=clf.intercept_,
        transitions=weight * trans, start=weight * start, end=weight * end,
        meta={"version": args.version, "trained_on": "CSAbstruct train (1,668 abstracts)",
              "embedder": embedder_name, "C": c, "dense_scale": scale, "transition_weight": weight,
              "dev_accuracy_at_training": round(acc, 4), "dev_accuracy_regression_alone": round(linear_acc, 4),
              "crf": {"file": CRF_FILE, "weight": share, "c1": args.crf_c1, "c2": args.crf_c2}},
    )
    model.save(args.out)
    for name in ("LICENSE",):
        shutil.copyfile(args.data / name, args.out / name)
    # Check the stored (float16) weights give the same dev accuracy as the fitted ones.
    reloaded = RoleModel.load(args.out)
    correct = total = offset = 0
    for record in dev:
        n = len(record["sentences"])
        predicted = reloaded.predict(record["sentences"], dev_emb[offset:offset + n])
        correct += sum(p == g for p, g in zip(predicted, record["labels"], strict=True))
        total += n
        offset += n
    print(f"reloaded model dev acc {correct / total:.4f}; wrote {args.out}")


if __name__ == "__main__":
    main()
