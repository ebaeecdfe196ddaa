"""The CLI imports only what a command needs (issue 19): a keyword search as a process does not load the web
stack, the models, the source adapters or torch; the lazy table in cli/default_plugins.py names the module of
every built-in command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paperlens.cli import eval_group, main
from paperlens.cli.default_plugins import COMMAND_MODULES, EVAL_MODULES

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("fastapi", "uvicorn", "torch", "sentence_transformers", "feedparser", "jinja2", "sklearn", "rich",
         "openai", "tokenizers", "paperlens.web", "paperlens.sources", "paperlens.ingest", "paperlens.export",
         # papers without enrichment outputs need no step to complete them (the LLM step alone imported
         # pydantic-settings and asyncio)
         "paperlens.enrich.steps", "paperlens.enrich.llm", "paperlens.enrich.models", "pydantic_settings",
         "asyncio",
         # numpy is for vectors and, from 200k papers, the keyword index's head lists
         "numpy",
         # LaTeX cleaning is for ingest
         "pylatexenc",
         # result lists read stored papers without the models (rows.PaperView) when nothing enriched them
         "pydantic", "paperlens.core.models")


def _builtin(group) -> dict[str, str]:
    return {name: command.callback.__module__.rsplit(".", 1)[1] for name, command in group.commands.items()
            if command.callback is not None and command.callback.__module__.startswith("paperlens.cli.")
            and command.callback.__module__ != "paperlens.cli"}


def test_the_lazy_table_names_the_module_of_every_builtin_command():
    assert _builtin(main) == COMMAND_MODULES
    assert _builtin(eval_group) == EVAL_MODULES


def _imported(args: list[str], tmp_path: Path, **extra: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "HF_HUB_OFFLINE": "1", **extra}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "paperlens", "--db", str(tmp_path / "x.db"),
                           *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("backend", ["auto", "tantivy"])  # this small collection's FTS5 index; the large ones'
def test_a_keyword_search_imports_no_heavy_module(tmp_path, backend):
    sample = next((SRC / "paperlens" / "sample").glob("003_*.txt"))
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    subprocess.run([sys.executable, "-m", "paperlens", "--db", str(tmp_path / "x.db"), "ingest", str(sample)],
                   env=env, check=True, capture_output=True, timeout=300)
    _imported(["search", "--mode", "keyword", "reasoning"], tmp_path, PAPERLENS_KEYWORD_INDEX=backend)  # builds
    modules = _imported(["search", "--mode", "keyword", "reasoning"], tmp_path, PAPERLENS_KEYWORD_INDEX=backend)
    if backend == "tantivy":
        assert "tantivy" in modules
    assert "paperlens.search.hybrid" in modules  # the probe sees the command's own imports
    loaded = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert not loaded, loaded
