"""Exports: JSONL (lossless, re-ingestable), BibTeX and Markdown; WRITERS maps a format name to its writer."""

from paperlens.export.bibtex import write_bibtex
from paperlens.export.jsonl import write_jsonl
from paperlens.export.markdown import write_markdown

WRITERS = {"jsonl": write_jsonl, "bibtex": write_bibtex, "markdown": write_markdown}
