"""Local enrichment steps (no network): registered here as they are built."""
