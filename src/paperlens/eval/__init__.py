"""Evaluation: how well topics, keywords, roles and search do against labelled data."""
