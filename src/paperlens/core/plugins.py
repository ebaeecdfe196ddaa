"""The one plugin registry: a pluggy PluginManager, and read-only views of what its plugins register.

paperlens' own sources, steps, embedders, exporters, LLM clients and commands go through the same door as a
third-party plugin's. Each stage names its built-ins' module with `add_default_plugins()` when the stage is
imported (`paperlens.sources.default_plugins`, `paperlens.enrich.default_plugins`, ...): this module sits in
`core`, below every stage, so it never imports them itself. Those modules are imported and registered the
first time a registry is read, together with every module in the `paperlens` entry-point group of the
installed packages (`PAPERLENS_LOAD_PLUGINS=name,name` loads only those, `PAPERLENS_LOAD_PLUGINS=` none).

A stage keeps its familiar lookup as a view: `paperlens.sources.SOURCES` is `Registry("sources")`, a mapping
from name to class in registration order, built-ins first. The hooks are in `paperlens.core.hookspecs` and
documented in docs/plugins.md."""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import pluggy

from paperlens.core import hookspecs

GROUP = "paperlens"
hookimpl = pluggy.HookimplMarker("paperlens")

# kind -> the hook that registers it; list hooks return objects with a `name`, dict hooks {name: object}
KINDS = {
    "sources": "register_sources",
    "steps": "register_steps",
    "embedders": "register_embedders",
    "exporters": "register_exporters",
    "llm_clients": "register_llm_clients",
    "commands": "register_commands",
}
LIST_KINDS = ("sources", "steps")


class PluginError(RuntimeError):
    """A plugin that cannot load, or that registers something badly (a duplicate name, the wrong type)."""


class _Manager(pluggy.PluginManager):
    """A PluginManager that counts changes, so the views rebuild only after a (un)registration."""

    generation = 0

    def register(self, plugin: object, name: str | None = None) -> str | None:
        result = super().register(plugin, name)
        self.generation += 1
        return result

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any:
        result = super().unregister(plugin, name)
        self.generation += 1
        return result


pm = _Manager(GROUP)
pm.add_hookspecs(hookspecs)

_LOCK = threading.RLock()
_PENDING: list[str] = []  # default plugin modules named by the stages imported so far, not yet registered
DEFAULTS: list[str] = []  # the default plugins registered, in order
_ENTRY_POINTS_LOADED = False
_LOADING: list[bool] = []  # non-empty while the entry-point plugins are being imported
DISTRIBUTIONS: dict[str, str] = {}  # entry-point plugin name -> "distribution version"
_COMMANDS: dict[str, str] = {}  # command name -> the plugin that added it (see load_commands)


def add_default_plugins(*modules: str) -> None:
    """Name built-in plugin modules; they are imported and registered when a registry is next read."""
    with _LOCK:
        for module in modules:
            if module not in _PENDING and module not in DEFAULTS:
                _PENDING.append(module)
                pm.generation += 1  # the views rebuild (and register it) on their next read


def _load_entry_points() -> None:
    from importlib import metadata  # ~15 ms: only when something asks for the plugins

    wanted = os.environ.get("PAPERLENS_LOAD_PLUGINS")
    names = None if wanted is None else {n.strip() for n in wanted.split(",") if n.strip()}
    for ep in metadata.entry_points(group=GROUP):
        dist = getattr(ep, "dist", None)
        dist_name = dist.metadata["Name"] if dist is not None else None
        if names is not None and ep.name not in names and dist_name not in names:
            continue
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(f"plugin {ep.name!r} ({ep.value}, entry point group {GROUP!r}"
                              f"{', from ' + dist_name if dist_name else ''}) failed to load: "
                              f"{type(exc).__name__}: {exc}") from exc
        pm.register(plugin, name=ep.name)
        if dist is not None:
            DISTRIBUTIONS[ep.name] = f"{dist_name} {dist.version}"


def manager() -> pluggy.PluginManager:
    """The plugin manager with every default plugin named so far and the entry-point plugins registered."""
    global _ENTRY_POINTS_LOADED
    if not _PENDING and _ENTRY_POINTS_LOADED:
        return pm
    with _LOCK:
        while _PENDING:  # importing a default plugin may import another stage, which names its own
            name = _PENDING[0]
            module = importlib.import_module(name)
            if pm.get_plugin(name) is None:
                pm.register(module, name=name)
            _PENDING.remove(name)
            DEFAULTS.append(name)
        if not _ENTRY_POINTS_LOADED and not _LOADING:  # (a plugin's module may look something up on import)
            _LOADING.append(True)
            try:
                _load_entry_points()  # a plugin that fails to load raises, here and on every later lookup
            finally:
                _LOADING.clear()
            _ENTRY_POINTS_LOADED = True
    return pm


def _impls(hook: str) -> list[pluggy.HookImpl]:
    """The hook's implementations in registration order, the default plugins' first."""
    impls = getattr(manager().hook, hook).get_hookimpls()  # pluggy keeps them in registration order
    return sorted(impls, key=lambda impl: (impl.plugin_name not in DEFAULTS,
                                           DEFAULTS.index(impl.plugin_name) if impl.plugin_name in DEFAULTS else 0))


def _collect(kind: str) -> dict[str, tuple[Any, str]]:
    """name -> (object, plugin name) for one kind, checking each plugin's answer."""
    table: dict[str, tuple[Any, str]] = {}
    for impl in _impls(KINDS[kind]):
        answer = impl.function()
        if answer is None:
            continue
        if kind in LIST_KINDS:
            if not isinstance(answer, list | tuple):
                raise PluginError(f"plugin {impl.plugin_name!r}: {KINDS[kind]}() must return a list, "
                                  f"not {type(answer).__name__}")
            pairs = []
            for item in answer:
                name = getattr(item, "name", None)
                if not isinstance(name, str) or not name:
                    raise PluginError(f"plugin {impl.plugin_name!r}: {KINDS[kind]}() returned {item!r}, "
                                      f"which has no name")
                pairs.append((name, item))
        else:
            if not isinstance(answer, Mapping):
                raise PluginError(f"plugin {impl.plugin_name!r}: {KINDS[kind]}() must return a dict "
                                  f"{{name: ...}}, not {type(answer).__name__}")
            pairs = list(answer.items())
        for name, item in pairs:
            if name in table:
                raise PluginError(f"{kind[:-1].replace('_', ' ')} {name!r} is registered twice: by plugin "
                                  f"{table[name][1]!r} and by plugin {impl.plugin_name!r}")
            table[name] = (item, impl.plugin_name)
    return table


class Registry(Mapping[str, Any]):
    """A read-only mapping name -> object over one kind of registered item, in registration order. It is
    rebuilt when a plugin is registered or unregistered."""

    def __init__(self, kind: str):
        if kind not in KINDS or kind == "commands":
            raise ValueError(f"no registry of {kind!r}; kinds: {', '.join(k for k in KINDS if k != 'commands')}")
        self.kind = kind
        self._table: dict[str, tuple[Any, str]] | None = None
        self._plain: Mapping[str, Any] = MappingProxyType({})
        self._generation = -1

    def _items(self) -> dict[str, tuple[Any, str]]:
        if self._generation == pm.generation:  # nothing (un)registered or named since the last build
            return self._table  # type: ignore[return-value]
        manager()
        with _LOCK:
            generation = pm.generation
            table = _collect(self.kind)
            self._plain = MappingProxyType({name: item for name, (item, _) in table.items()})
            self._table, self._generation = table, generation
        return table

    def snapshot(self) -> Mapping[str, Any]:
        """The registry as it is now, as a plain read-only mapping: for a loop that looks up many times."""
        self._items()
        return self._plain

    def __getitem__(self, name: str) -> Any:
        return self._items()[name][0]

    def __contains__(self, name: object) -> bool:
        return name in self._items()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items()))

    def __len__(self) -> int:
        return len(self._items())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self)})"

    def provider(self, name: str) -> str:
        """The name of the plugin that registered `name`."""
        return self._items()[name][1]


def _flatten(group: Any, prefix: str = "") -> dict[str, Any]:
    """'name' / 'group name' -> command, for a click group and the groups inside it."""
    out: dict[str, Any] = {}
    for name, command in getattr(group, "commands", {}).items():
        out[prefix + name] = command
        out.update(_flatten(command, f"{prefix}{name} "))
    return out


def load_commands(cli: Any, owner: str = "paperlens.cli") -> None:
    """Call every plugin's register_commands(cli), noting which plugin added which command (subcommands of a
    group as 'group name'). Commands `cli` had before are `owner`'s. A plugin may not replace a command."""
    for name in _flatten(cli):
        _COMMANDS.setdefault(name, owner)
    for impl in _impls("register_commands"):
        before = _flatten(cli)
        impl.function(*[{"cli": cli}[arg] for arg in impl.argnames])  # pluggy lets an impl take fewer arguments
        for name, command in _flatten(cli).items():
            if before.get(name) is command or (name in _COMMANDS and name not in before):
                continue
            if name in before:
                raise PluginError(f"command {name!r} is registered twice: by plugin "
                                  f"{_COMMANDS.get(name, owner)!r} and by plugin {impl.plugin_name!r}")
            _COMMANDS[name] = impl.plugin_name


def registered() -> dict[str, list[dict[str, str]]]:
    """Every registered item by kind: [{"name", "plugin"}], in registration order. Commands are those that
    `load_commands` added."""
    out: dict[str, list[dict[str, str]]] = {}
    for kind in KINDS:
        if kind == "commands":
            out[kind] = [{"name": name, "plugin": plugin} for name, plugin in _COMMANDS.items()]
        else:
            out[kind] = [{"name": name, "plugin": plugin} for name, (_, plugin) in _collect(kind).items()]
    return out


def plugin_list() -> list[dict[str, Any]]:
    """The registered plugins: name, whether built in, the distribution that installed it, its hooks."""
    mgr = manager()
    rows = []
    for name, plugin in mgr.list_name_plugin():
        if plugin is None:  # blocked
            continue
        hooks = sorted(caller.name for caller in mgr.get_hookcallers(plugin) or [])
        rows.append({"name": name, "default": name in DEFAULTS, "distribution": DISTRIBUTIONS.get(name),
                     "hooks": hooks})
    return sorted(rows, key=lambda r: (not r["default"], r["name"]))
