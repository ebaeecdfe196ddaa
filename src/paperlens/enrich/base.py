"""The step contract every enrichment follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from paperlens.core.models import Paper
from paperlens.core.plugins import Registry


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

    # -- Ray (`enrich --engine ray`, enrich/ray_engine.py) -------------------------------------------------
    # Workers cannot reach SQLite: only the driver holds the store. A step that keeps work beside its output
    # (the LLM step's response cache) overrides these; the defaults suit a step whose output is all it keeps.
    def remote_options(self, options: dict[str, Any], workers: int = 1) -> dict[str, Any]:
        """The options each worker builds its copy of this step from (`create(**options)`); by default
        the options the driver was given. `workers`: how many actors share the work."""
        return options

    def remote_hints(self, papers: list[Paper]) -> dict[str, Any]:
        """On the driver: per-paper JSON (paper id -> value) shipped to the workers with each paper."""
        return {}

    def accept_hints(self, hints: dict[str, Any]) -> None:
        """On a worker, before each batch: the hints `remote_hints` made for the batch's papers."""

    def take_remote_state(self) -> dict[str, Any]:
        """On a worker, after each batch: per-paper JSON (paper id -> value) to bring back to the driver."""
        return {}

    def absorb_remote_state(self, store, state: dict[str, Any]) -> None:
        """On the driver: write what the workers' `take_remote_state` brought back into the store."""


# Every step class by name, from the plugin registry (`register_steps`): paperlens' own steps are registered
# by paperlens/enrich/default_plugins.py, a plugin's through the `paperlens` entry-point group.
STEPS: Registry = Registry("steps")
