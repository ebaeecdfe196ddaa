"""paperlens' own commands, registered like any plugin's (docs/plugins.md): each other module of this package
adds its commands to the `paperlens` group when it is imported."""

from __future__ import annotations

import importlib
import pkgutil

from paperlens.core.plugins import hookimpl


@hookimpl
def register_commands(cli):
    import paperlens.cli as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name != "default_plugins":
            importlib.import_module(f"{package.__name__}.{info.name}")
