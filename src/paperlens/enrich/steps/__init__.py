"""The built-in enrichment steps (enrich/default_plugins.py registers them)."""
