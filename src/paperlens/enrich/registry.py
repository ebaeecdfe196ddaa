"""Which steps exist (loading every step module once), and how their stored outputs fill a paper's view.

A step module registers its class with `paperlens.enrich.base.register_step`."""

from __future__ import annotations

import importlib
from typing import Any

from paperlens.core.models import Paper
from paperlens.enrich.base import STEPS, Step

_LOADED = False


def load_steps() -> dict[str, type[Step]]:
    """Import every `paperlens.enrich.steps.*` module (and the LLM step); each registers its steps."""
    global _LOADED
    if not _LOADED:
        _LOADED = True
        import pkgutil

        from paperlens.enrich import steps

        for info in sorted(pkgutil.iter_modules(steps.__path__), key=lambda m: m.name):
            importlib.import_module(f"paperlens.enrich.steps.{info.name}")
        for module in ("paperlens.enrich.llm.step",):
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name is None or not module.startswith(exc.name):
                    raise
    return STEPS


def apply_outputs(paper: Paper, enrichments: dict[str, dict[str, Any]], copy: bool = True) -> Paper:
    steps = load_steps()
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
