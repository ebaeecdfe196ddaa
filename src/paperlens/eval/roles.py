"""Sentence-role accuracy on a CSAbstruct-format file: accuracy, macro-F1, per-label precision, recall
and F1, the confusion matrix, and what the CRF adds to the regression."""

from __future__ import annotations

import json
import time
from pathlib import Path

from paperlens.eval import CSABSTRUCT, EvalError

SHARED_CSABSTRUCT = CSABSTRUCT
SPLITS = ("dev", "train")


def split_path(split: str) -> Path:
    """`dev` or `train` of the shared CSAbstruct, or a path to a CSAbstruct-format file; EvalError when
    it is not there."""
    if split in SPLITS:
        path = SHARED_CSABSTRUCT / f"{split}.jsonl"
        if not path.exists():
            raise EvalError(
                f"{path} not found: CSAbstruct is expected in ../shared/data/csabstruct beside the repo; "
                "pass --split PATH to a CSAbstruct-format jsonl file")
        return path
    path = Path(split)
    if not path.exists():
        raise EvalError(f"{path}: no such file")
    return path


def read_csabstruct(path: Path) -> list[dict]:
    """Records with `sentences` and `labels`; a bad line is an EvalError naming file and line."""
    from paperlens.enrich.models.roles import ROLES

    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                sentences, labels = record["sentences"], record["labels"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise EvalError(f"{path}:{number}: not a CSAbstruct record ({exc})") from exc
            if len(sentences) != len(labels):
                raise EvalError(f"{path}:{number}: {len(sentences)} sentences but {len(labels)} labels")
            unknown = sorted(set(labels) - set(ROLES))
            if unknown:
                raise EvalError(f"{path}:{number}: unknown label(s) {', '.join(unknown)}")
            records.append(record)
    if not records:
        raise EvalError(f"{path}: no records")
    return records


def evaluate(records: list[dict]) -> dict:
    """The shipped model on `records` (each with `sentences` and gold `labels`)."""
    from paperlens.enrich.models.roles import ROLES, embed_sentences, load_model

    def label_all(embeddings, cue_weight=None) -> list[str]:
        out, offset = [], 0
        for record in records:
            n = len(record["sentences"])
            out.extend(model.predict(record["sentences"], embeddings[offset:offset + n], cue_weight))
            offset += n
        return out

    start = time.perf_counter()
    model = load_model()
    embeddings = embed_sentences([s for r in records for s in r["sentences"]])
    pred = label_all(embeddings)
    seconds = time.perf_counter() - start
    gold = [label for r in records for label in r["labels"]]
    regression_alone = None
    if model.cue_tagger is not None:  # what the CRF adds: the same model with its share set to 0
        alone = label_all(embeddings, cue_weight=0.0)
        regression_alone = round(sum(g == p for g, p in zip(gold, alone, strict=True)) / len(gold), 4)
    index = {label: i for i, label in enumerate(ROLES)}
    confusion = [[0] * len(ROLES) for _ in ROLES]
    for g, p in zip(gold, pred, strict=True):
        confusion[index[g]][index[p]] += 1
    per_label = {}
    for label, i in index.items():
        tp = confusion[i][i]
        fp = sum(confusion[j][i] for j in range(len(ROLES))) - tp
        fn = sum(confusion[i]) - tp
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                            "support": tp + fn}
    present = [label for label in ROLES if per_label[label]["support"]]
    return {
        "abstracts": len(records),
        "sentences": len(gold),
        "accuracy": round(sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold), 4),
        "accuracy_regression_alone": regression_alone,
        "macro_f1": round(sum(per_label[label]["f1"] for label in present) / len(present), 4),
        "per_label": per_label,
        "labels": list(ROLES),
        "confusion": confusion,
        "seconds": round(seconds, 2),
        "abstracts_per_second": round(len(records) / seconds, 1) if seconds else None,
    }


def evaluate_roles(split: str = "dev", *, limit: int | None = None) -> dict:
    """The report of `paperlens eval roles`: the file, the model version and `evaluate`'s figures on the
    split's first `limit` abstracts (all when None)."""
    from paperlens.enrich.models.roles import model_version

    path = split_path(split)
    records = read_csabstruct(path)
    if limit:
        records = records[:limit]
    return {"file": str(path), "model_version": model_version(), **evaluate(records)}


def report_lines(result: dict) -> list[str]:
    """The report as the lines `paperlens eval roles` prints."""
    lines = [f"{result['file']}: {result['abstracts']} abstracts, {result['sentences']} sentences "
             f"(model v{result['model_version']})",
             f"accuracy {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}  "
             f"({result['abstracts_per_second']} abstracts/s)"]
    if result["accuracy_regression_alone"] is not None:
        lines.append(f"(without the CRF: accuracy {result['accuracy_regression_alone']:.4f})")
    lines.append("")
    lines.append(f"{'label':<12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for label, row in result["per_label"].items():
        lines.append(f"{label:<12}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['f1']:>10.4f}"
                     f"{row['support']:>10}")
    lines.append("")
    lines.append("confusion (rows gold, columns predicted):")
    labels = result["labels"]
    lines.append(" " * 12 + "".join(f"{label[:10]:>11}" for label in labels))
    for label, row in zip(labels, result["confusion"], strict=True):
        lines.append(f"{label:<12}" + "".join(f"{v:>11}" for v in row))
    return lines
