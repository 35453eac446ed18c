"""The web app: the JSON API under /api/v1 (and, later, the pages)."""
