"""The web app: server-rendered pages over the same services as the CLI and the JSON API.

``traindex.api.routes.web_pages`` mounts the pages (``pages``, ``optout``, ``reports`` and,
when enabled, ``faces``) into the one FastAPI app; ``docs/web.md`` describes them.
"""
