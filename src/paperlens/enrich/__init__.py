"""Enrichment: small steps (name, version, run(batch)) run by one runner that skips finished work."""
