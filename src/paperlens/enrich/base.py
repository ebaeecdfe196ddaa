"""The step contract every enrichment follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from paperlens.core.models import Paper


@dataclass
class StepResult:
    """One paper's outcome: an output dict, or an error (recorded as failed, never papered over)."""

    paper_id: str
    output: dict[str, Any] | None = None
    error: str | None = None
    model: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.output is not None


class Step:
    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    # Lower applies first when views fill a paper's empty fields: LLM steps beat local ones.
    priority: ClassVar[int] = 100
    # Steps run by a plain `paperlens enrich`, in `order`; LLM steps are opt-in.
    default: ClassVar[bool] = True
    order: ClassVar[int] = 100
    model: str | None = None

    @classmethod
    def create(cls, **options) -> Step:
        """Build the step from CLI/settings options; steps with no options ignore them."""
        return cls()

    def bind_store(self, store) -> None:
        """Called by the runner before the first batch; steps that keep a cache in the store use it."""

    def run(self, papers: list[Paper]) -> list[StepResult]:
        raise NotImplementedError

    def after_batch(self, store, papers: list[Paper], results: list[StepResult]) -> None:
        """Hook for steps that keep more than JSON output (e.g. embedding vectors)."""

    @classmethod
    def apply(cls, paper: Paper, output: dict[str, Any]) -> None:
        """Fill the paper's fields from this step's output, leaving values already set alone."""


# Every step class, by name: each step module registers its own (paperlens.enrich.registry loads them all).
STEPS: dict[str, type[Step]] = {}


def register_step(cls: type[Step]) -> type[Step]:
    STEPS[cls.name] = cls
    return cls
