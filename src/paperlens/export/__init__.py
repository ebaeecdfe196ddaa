"""Exports: JSONL (lossless, re-ingestable), BibTeX and Markdown. WRITERS maps a format name to its writer,
from the plugin registry (`register_exporters`, docs/plugins.md): these three are registered by
export/default_plugins.py, a plugin's through the `paperlens` entry-point group."""

from paperlens.core.plugins import Registry, add_default_plugins

add_default_plugins("paperlens.export.default_plugins")
WRITERS: Registry = Registry("exporters")
