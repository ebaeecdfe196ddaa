"""Generators of hostile input files (issue 14): each writes its file where a test asks, so no big or
hostile file is kept in the repository. Also usable by hand: python -m tests.hostile.files --help."""
