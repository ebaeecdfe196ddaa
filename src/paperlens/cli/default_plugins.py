"""paperlens' own commands, registered like any plugin's (docs/plugins.md): each other module of this package
adds its commands to the `paperlens` group when it is imported."""

from __future__ import annotations

import importlib
import pkgutil

from paperlens.core.plugins import hookimpl

# Which module of this package defines each built-in command, so that running one imports only its module
# (cli/__init__.py's lazy group). tests/test_cli_lazy.py fails when this table and the modules disagree.
COMMAND_MODULES = {
    "classify": "taxonomy", "daily": "daily", "digest": "daily", "enrich": "enrich", "export": "core",
    "fetch": "fetch", "ingest": "core", "keywords": "keywords", "plugins": "plugins", "profile": "profiles",
    "recommend": "profiles", "search": "search", "serve": "web", "show": "core", "similar": "search",
    "stats": "core", "taxonomy": "taxonomy",
}
EVAL_MODULES = {
    "keywords": "evaluate_keywords", "recommend": "profiles", "roles": "evaluate_roles",
    "search": "evaluate_search", "topics": "evaluate_topics",
}


@hookimpl
def register_commands(cli):
    import paperlens.cli as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name != "default_plugins":
            importlib.import_module(f"{package.__name__}.{info.name}")
