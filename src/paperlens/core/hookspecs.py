"""The plugin hooks: every extension point of paperlens, one function each.

A plugin is a module (or object) with functions of these names decorated with `paperlens.core.plugins.hookimpl`.
paperlens' own sources, steps, embedders, exporters, LLM clients and commands are plugins of exactly this kind
(the `default_plugins.py` module of each stage); a separate package adds its own through the `paperlens` entry-point
group. Every hook is documented, with an example, in docs/plugins.md (tests/test_plugins.py checks that it is)."""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("paperlens")
# The specs below have only a docstring (pluggy calls the implementations, never these).


@hookspec
def register_sources() -> list[type]:
    """Source classes (subclasses of `paperlens.sources.base.Source`), each with a unique `name`.

    Format detection tries them in registration order (paperlens' own first), and classes with
    `fallback = True` (the generic table/JSON reader) after every other."""


@hookspec
def register_steps() -> list[type]:
    """Enrichment step classes (subclasses of `paperlens.enrich.base.Step`), each with a unique `name`."""


@hookspec
def register_embedders() -> dict[str, Any]:
    """Embedders by short name: `{name: factory}`, where `factory()` returns an object with `name`, `dim` and
    `encode(texts, batch_size=64) -> float32 array` (see `paperlens.enrich.models.embed.Embedder`)."""


@hookspec
def register_exporters() -> dict[str, Any]:
    """Export formats by name: `{name: writer}`, where `writer(papers, out) -> int` writes an iterable of
    `Paper` to the text stream `out` and returns how many it wrote."""


@hookspec
def register_llm_clients() -> dict[str, Any]:
    """LLM clients by name: `{name: client class}`, chosen with `PAPERLENS_LLM_CLIENT`. A client is built as
    `cls(settings, labels, limiter)`, is an async context manager, and answers
    `await client.digest(system, user, lang) -> DigestOutcome` (see `paperlens.enrich.llm.client.DigestClient`)."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add commands to `cli`, the `paperlens` click group (`@cli.command()` or `cli.add_command(...)`)."""
