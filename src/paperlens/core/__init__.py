"""The core layer: the Paper model, ids and match keys, text cleaning, merging. Imports nothing else of paperlens."""
