"""Which steps exist, and how their stored outputs fill a paper's view.

Steps are plugins (`register_steps`, docs/plugins.md): paperlens' own come from enrich/default_plugins.py."""

from __future__ import annotations

from typing import Any

from paperlens.core.models import Paper
from paperlens.core.plugins import Registry
from paperlens.enrich.base import STEPS


def load_steps() -> Registry:
    """Every registered step class by name (a read-only view over the plugin registry)."""
    return STEPS


def apply_outputs(paper: Paper, enrichments: dict[str, dict[str, Any]], copy: bool = True) -> Paper:
    if not enrichments:  # nothing to apply: the steps (and their modules, a fifth of a second) are not needed
        return paper
    steps = STEPS.snapshot()  # called once per paper shown: a plain mapping, not a registry lookup each time
    ordered = sorted(
        (e for e in enrichments.values() if e["status"] == "ok" and e["step"] in steps and e.get("output")),
        key=lambda e: steps[e["step"]].priority,
    )
    if not ordered:
        return paper
    if copy:
        paper = paper.model_copy(deep=True)
    for item in ordered:
        steps[item["step"]].apply(paper, item["output"])
    return paper
