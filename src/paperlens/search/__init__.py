"""Search: hybrid keyword + semantic search (text index, vector index) and the web's paged search."""
