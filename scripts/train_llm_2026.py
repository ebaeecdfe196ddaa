"""Train the built-in llm-2026 classifier on all 651 bundled seed papers (002 digest labels).

Held-out figures come from `paperlens eval topics` (k-fold, models trained without the scored papers).

    PYTHONPATH=src python scripts/train_llm_2026.py
"""

from __future__ import annotations

from paperlens.enrich.models.taxonomy import BUILTIN_DIR, TopicClassifier
from paperlens.eval.topics import seed_records


def main() -> None:
    records, labels = seed_records()
    classifier = TopicClassifier.train(records, labels)
    classifier.save(BUILTIN_DIR / "llm-2026")
    print(f"trained llm-2026 on {len(records)} papers -> {BUILTIN_DIR / 'llm-2026'}")


if __name__ == "__main__":
    main()
