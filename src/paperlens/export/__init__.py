"""Export: JSONL, BibTeX and Markdown writers."""
