"""The built-in enrichment steps (each module registers its steps with enrich.base.register_step)."""
