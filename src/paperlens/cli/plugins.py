"""plugins: what the plugin registry holds, by kind, and which plugin provided each item."""

from __future__ import annotations

import json

import click

from paperlens.cli import load_all, main
from paperlens.core.plugins import plugin_list, registered


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object: {plugins: [...], items: {kind: [...]}}.")
def plugins(as_json):
    """List the installed plugins and the sources, steps, embedders, exporters, LLM clients and commands
    they register (paperlens' own are plugins too)."""
    load_all()  # commands load lazily; this listing names them all
    data = {"plugins": plugin_list(), "items": registered()}
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for plugin in data["plugins"]:
        origin = "built in" if plugin["default"] else plugin["distribution"] or "registered in this process"
        click.echo(f"{plugin['name']} ({origin}): {', '.join(plugin['hooks']) or 'no hooks'}")
    for kind, items in data["items"].items():
        click.echo(f"\n{kind.replace('_', ' ')} ({len(items)}):")
        for item in items:
            click.echo(f"  {item['name']}\t{item['plugin']}")
