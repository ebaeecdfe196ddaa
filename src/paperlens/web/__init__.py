"""The web app: FastAPI routes (app.py), the in-memory catalog, page rendering, the brief worker."""
