"""HTTP API: one FastAPI app serving JSON endpoints (and, later, the web pages)."""
