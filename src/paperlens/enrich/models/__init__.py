"""The local models the steps run: roles, digest, keywords, taxonomy (topics), embedders."""
