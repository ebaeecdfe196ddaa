"""paperlens' own export formats, registered like any plugin's (docs/plugins.md)."""

from __future__ import annotations

from paperlens.core.plugins import hookimpl


@hookimpl
def register_exporters():
    from paperlens.export.bibtex import write_bibtex
    from paperlens.export.jsonl import write_jsonl
    from paperlens.export.markdown import write_markdown

    return {"jsonl": write_jsonl, "bibtex": write_bibtex, "markdown": write_markdown}
