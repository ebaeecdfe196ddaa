"""Enrichment: small steps (name, version, run(batch)) run by one runner that skips finished work."""

from paperlens.core.plugins import add_default_plugins

# paperlens' own steps, embedders and LLM clients, registered like a plugin's (docs/plugins.md)
add_default_plugins("paperlens.enrich.default_plugins")
