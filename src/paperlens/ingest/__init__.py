"""Ingest: read files through sources (in child processes for big files) and write them into the store."""
