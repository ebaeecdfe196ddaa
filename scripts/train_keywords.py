"""Train the keyword model shipped in src/paperlens/data/keywords/.

    PYTHONPATH=src python scripts/train_keywords.py [--csabstruct ../shared/data/csabstruct]

Inputs: the author keywords of the 002 seed digest (bundled sample), the hand-written vocabulary and
abbreviation lists in data/keywords/, and csabstruct abstracts (Apache-2.0) for phrase document frequencies.
No ICLR data is used."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from paperlens.enrich.models import keywords_train as kw

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csabstruct", type=Path, default=ROOT.parent / "shared" / "data" / "csabstruct",
                        help="csabstruct folder (train.jsonl, dev.jsonl); rebuilds general_df.json from it")
    args = parser.parse_args()
    start = time.time()
    if args.csabstruct.is_dir():
        texts = []
        for name in ("train.jsonl", "dev.jsonl"):
            for line in (args.csabstruct / name).read_text(encoding="utf-8").splitlines():
                if line.strip():
                    texts.append(" ".join(json.loads(line)["sentences"]))
        df, docs = kw.general_frequencies(texts)
        kw.GENERAL_DF_FILE.write_text(json.dumps({"source": "csabstruct (Apache-2.0), train+dev abstracts",
                                                  "docs": docs, "df": df}, sort_keys=True,
                                                 separators=(",", ":")), encoding="utf-8")
        print(f"general_df.json: {len(df)} phrases from {docs} csabstruct abstracts")
    papers = kw.seed_papers()
    model = kw.train(papers)
    model.save()
    print(f"model.json: {len(model.vocab)} vocabulary phrases, {model.meta}, {time.time() - start:.1f}s")
    for name, coef in zip(kw.FEATURES, model.weights["coef"], strict=True):
        print(f"  {name:24s} {coef:+.3f}")


if __name__ == "__main__":
    main()
