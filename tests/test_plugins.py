"""The plugin registry: a separate package adds a source, a step and a command through the `paperlens`
entry-point group and is used by `paperlens ingest` / `enrich` / `plugins`; built-ins are plugins too; the
registry refuses a duplicate name; and docs/plugins.md documents every hook and every registered item."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from paperlens.cli import main
from paperlens.core import hookspecs
from paperlens.core.plugins import KINDS, PluginError, Registry, hookimpl, pm, registered
from paperlens.enrich.base import STEPS, Step
from paperlens.sources import SOURCES
from paperlens.store import Store

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "plugins.md"

PLUGIN = '''
"""paperlens-tiny: a plugin package written by tests/test_plugins.py."""

from paperlens.core.models import Paper
from paperlens.core.plugins import hookimpl
from paperlens.enrich.base import Step, StepResult
from paperlens.sources.base import Rejected, Source, finish_paper, open_text


class TinyLinesSource(Source):
    name = "tiny-lines"
    description = "one paper a line, 'title :: abstract', in a .tiny file"

    @classmethod
    def sniff(cls, path, head):
        return path.suffix == ".tiny" and " :: " in head

    def read(self, ctx):
        with open_text(ctx.path) as handle:
            for number, line in enumerate(handle, start=1):
                line = line.strip()
                if not line:
                    continue
                if " :: " not in line:
                    yield Rejected(ctx.path, number, "expected 'title :: abstract'")
                    continue
                title, abstract = line.split(" :: ", 1)
                yield finish_paper(Paper(title=title, abstract=abstract), ctx, self.name, number)


class TitleWordsStep(Step):
    name = "title-words"
    version = "1"
    default = False

    def run(self, papers):
        return [StepResult(p.id, output={"words": len(p.title.split())}) for p in papers]


@hookimpl
def register_sources():
    return [TinyLinesSource]


@hookimpl
def register_steps():
    return [TitleWordsStep]


@hookimpl
def register_commands(cli):
    @cli.command(name="tiny-hello")
    def tiny_hello():
        """Say hello from the tiny plugin."""
        print("hello from paperlens-tiny")
'''

TITLES = ["Graph Transformers Revisited", "Sparse Mixture of Experts at Scale", "Tiny Models"]


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    """A directory for sys.path holding the package and its installed metadata (what pip would write)."""
    base = tmp_path / "site"
    (base / "paperlens_tiny").mkdir(parents=True)
    (base / "paperlens_tiny" / "__init__.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    info = base / "paperlens_tiny-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: paperlens-tiny\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[paperlens]\ntiny = paperlens_tiny\n", encoding="utf-8")
    return base


def _paperlens(plugin_path: Path, db: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "PAPERLENS_LOAD_PLUGINS"}
    full.update(env)
    full["PYTHONPATH"] = os.pathsep.join([str(plugin_path), str(ROOT / "src")])
    return subprocess.run([sys.executable, "-m", "paperlens", "--db", str(db), *args], env=full,
                          capture_output=True, text=True, timeout=300)


def test_a_plugin_package_adds_a_source_a_step_and_a_command(plugin_path, tmp_path):
    db = tmp_path / "papers.db"
    listing = _paperlens(plugin_path, db, "plugins", "--json")
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    items = {kind: {i["name"]: i["plugin"] for i in rows} for kind, rows in data["items"].items()}
    assert items["sources"]["tiny-lines"] == "tiny" and items["steps"]["title-words"] == "tiny"
    assert items["commands"]["tiny-hello"] == "tiny"
    assert items["sources"]["bibtex"] == "paperlens.sources.default_plugins"
    names = list(items["sources"])  # built-ins first
    assert names.index("tiny-lines") > max(names.index(n) for n in names if n != "tiny-lines")
    tiny = next(p for p in data["plugins"] if p["name"] == "tiny")
    assert tiny == {"name": "tiny", "default": False, "distribution": "paperlens-tiny 0.1",
                    "hooks": ["register_commands", "register_sources", "register_steps"]}

    papers = tmp_path / "reading.tiny"
    papers.write_text("".join(f"{t} :: We study {t.lower()} and report what we find.\n" for t in TITLES) +
                      "a line with no separator\n", encoding="utf-8")
    ingest = _paperlens(plugin_path, db, "ingest", str(papers))
    assert ingest.returncode == 0, ingest.stderr
    assert "tiny-lines" in ingest.stdout and f"{papers}:4: expected 'title :: abstract'" in ingest.stderr
    enrich = _paperlens(plugin_path, db, "enrich", "--steps", "title-words")
    assert enrich.returncode == 0, enrich.stderr
    assert f"title-words: done {len(TITLES)}, failed 0" in enrich.stdout
    assert _paperlens(plugin_path, db, "tiny-hello").stdout.strip() == "hello from paperlens-tiny"

    store = Store(db)
    try:
        assert store.count() == len(TITLES)
        exported = _paperlens(plugin_path, db, "export", "--format", "jsonl")
        records = [json.loads(line) for line in exported.stdout.splitlines()]
        assert sorted(r["title"] for r in records) == sorted(TITLES)
        for record in records:
            assert record["sources"][0]["source"] == "tiny-lines"
            row = store.enrichments_for(record["id"])["title-words"]
            assert row["status"] == "ok" and row["output"] == {"words": len(record["title"].split())}
    finally:
        store.close()


def test_child_parser_processes_find_the_plugin_source(plugin_path, tmp_path):
    """Big files are parsed in fresh interpreters (ingest/parser_process.py): they load the entry points too."""
    papers = tmp_path / "big.tiny"
    papers.write_text("".join(f"{t} :: We study {t.lower()}.\n" for t in TITLES), encoding="utf-8")
    script = ("import sys; from paperlens.ingest.pipeline import ingest_paths; from paperlens.store import Store; "
              "r = ingest_paths(Store(sys.argv[1]), [sys.argv[2]], parallel=True); "
              "print(r.valid, r.files[0].how)")
    env = {k: v for k, v in os.environ.items() if k != "PAPERLENS_LOAD_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_path), str(ROOT / "src")])
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "big.db"), str(papers)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    valid, how = result.stdout.split(" ", 1)
    assert int(valid) == len(TITLES) and "tiny-lines" in how


def test_paperlens_load_plugins_chooses_which_plugins_load(plugin_path, tmp_path):
    db = tmp_path / "papers.db"
    none = json.loads(_paperlens(plugin_path, db, "plugins", "--json", PAPERLENS_LOAD_PLUGINS="").stdout)
    assert "tiny-lines" not in {i["name"] for i in none["items"]["sources"]}
    assert all(p["default"] for p in none["plugins"])
    (tmp_path / "one.tiny").write_text("A Title :: An abstract about it.\n", encoding="utf-8")
    refused = _paperlens(plugin_path, db, "ingest", str(tmp_path / "one.tiny"), PAPERLENS_LOAD_PLUGINS="")
    assert refused.returncode != 0 and "unknown format" in refused.stderr
    chosen = json.loads(_paperlens(plugin_path, db, "plugins", "--json", PAPERLENS_LOAD_PLUGINS="paperlens-tiny").stdout)
    assert "tiny-lines" in {i["name"] for i in chosen["items"]["sources"]}


def test_a_plugin_that_fails_to_import_is_named(plugin_path, tmp_path):
    (plugin_path / "paperlens_tiny" / "__init__.py").write_text("raise ImportError('needs numpy 3')\n")
    result = _paperlens(plugin_path, tmp_path / "x.db", "plugins")
    assert result.returncode != 0
    assert "plugin 'tiny' (paperlens_tiny, entry point group 'paperlens', from paperlens-tiny) failed to load: " \
           "ImportError: needs numpy 3" in result.stderr


def test_builtins_are_default_plugins_and_views_follow_registration():
    data = registered()
    assert set(data) == set(KINDS)
    assert {i["plugin"] for i in data["sources"]} == {"paperlens.sources.default_plugins"}
    assert [i["name"] for i in data["sources"]] == list(SOURCES)
    assert SOURCES.provider("generic") == "paperlens.sources.default_plugins"
    with pytest.raises(TypeError):
        SOURCES["bibtex"] = object  # a view: register through a plugin

    class Extra(Step):
        name = "extra-step"

    class Plugin:
        @hookimpl
        def register_steps(self):
            return [Extra]

    pm.register(Plugin(), name="extra")
    try:
        assert STEPS["extra-step"] is Extra and STEPS.provider("extra-step") == "extra"
        assert list(STEPS)[-1] == "extra-step"  # after every built-in
    finally:
        pm.unregister(name="extra")
    assert "extra-step" not in STEPS


def test_detection_tries_a_plugin_source_before_the_generic_fallback(tmp_path):
    from paperlens.sources import detect_format
    from paperlens.sources.base import Source

    table = tmp_path / "papers.csv"
    table.write_text("title,abstract\nA Study of Things,We study things.\n", encoding="utf-8")
    assert detect_format(table) == "generic"

    class Greedy(Source):  # claims every file: it must still come after every specific built-in
        name = "greedy"

        @classmethod
        def sniff(cls, path, head):
            return True

    class Plugin:
        @hookimpl
        def register_sources(self):
            return [Greedy]

    bib = tmp_path / "one.bib"
    bib.write_text("@article{a, title={A Study}, author={Doe, Jane}, year={2024}}\n", encoding="utf-8")
    pm.register(Plugin(), name="greedy")
    try:
        assert detect_format(table) == "greedy" and detect_format(bib) == "bibtex"
    finally:
        pm.unregister(name="greedy")
    assert detect_format(table) == "generic"


def test_a_duplicate_name_or_a_bad_answer_is_refused_with_both_plugins_named():
    class Twin(Step):
        name = "embed"

    class Plugin:
        @hookimpl
        def register_steps(self):
            return [Twin]

    pm.register(Plugin(), name="twin")
    try:
        with pytest.raises(PluginError, match="step 'embed' is registered twice: by plugin "
                                              "'paperlens.enrich.default_plugins' and by plugin 'twin'"):
            STEPS["embed"]
    finally:
        pm.unregister(name="twin")

    class Bad:
        @hookimpl
        def register_exporters(self):
            return ["csv"]

    pm.register(Bad(), name="bad")
    try:
        with pytest.raises(PluginError, match="plugin 'bad': register_exporters\\(\\) must return a dict"):
            list(Registry("exporters"))
    finally:
        pm.unregister(name="bad")


def test_a_plugin_command_may_not_replace_a_builtin():
    from paperlens.core.plugins import load_commands

    class Plugin:
        @hookimpl
        def register_commands(self, cli):
            @cli.command(name="ingest")
            def hijack():
                """Not the real ingest."""

    import click

    group = click.Group(commands=dict(main.commands))
    pm.register(Plugin(), name="hijacker")
    try:
        with pytest.raises(PluginError, match="command 'ingest' is registered twice: .* by plugin 'hijacker'"):
            load_commands(group)
    finally:
        pm.unregister(name="hijacker")


# -- docs/plugins.md documents every hook and every registered item (like datasette's test_docs.py) ----------
def _sections() -> dict[str, str]:
    """'### heading' -> the text under it, up to the next heading of level 3 or above."""
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^(#{1,3} .*)$", text, flags=re.MULTILINE)
    return {parts[i].lstrip("#").strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _hooks() -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in vars(hookspecs).items()
            if callable(fn) and name.startswith("register_")}


def test_every_hook_is_documented_with_its_signature():
    headings = _sections()
    assert set(_hooks()) == set(KINDS.values())
    for name, signature in _hooks().items():
        params = ", ".join(signature.parameters)
        assert f"{name}({params})" in headings, f"docs/plugins.md has no '### {name}({params})' section"


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_registered_item_is_documented(kind):
    sections = _sections()
    hook = KINDS[kind]
    params = ", ".join(_hooks()[hook].parameters)
    section = sections[f"{hook}({params})"]
    documented = set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))
    missing = [item["name"] for item in registered()[kind] if item["name"] not in documented]
    assert not missing, f"docs/plugins.md, '{hook}' section: no table row for {', '.join(missing)}"
