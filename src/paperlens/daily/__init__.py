"""The daily run: per profile, fetch the day's new papers, ingest, enrich, rank and publish (email, feed, site)."""
