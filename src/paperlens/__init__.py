"""paperlens: a stream of research papers into a structured, searchable, bilingual digest."""

__version__ = "0.1.0"
