"""Keyword tags for the lines of a JSONL file (`paperlens keywords`): each good line comes back with
`keywords_pred`, a bad one with what is wrong with it (models/lines.py reads them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def tag_lines(items: Iterable[tuple[int, str | None, dict]], k: int = 5,
              model=None) -> Iterator[tuple[int, str | None, dict]]:
    """abstract_lines' items, each good record with its top `k` tags in `keywords_pred`. `model`: the
    shipped one by default."""
    if model is None:
        from paperlens.enrich.models.keywords import default_model

        model = default_model()
    for number, problem, record in items:
        if not problem:
            picked = model.extract(record.get("title") or "", record["abstract"], k)
            record["keywords_pred"] = [phrase for phrase, _ in picked]
        yield number, problem, record
