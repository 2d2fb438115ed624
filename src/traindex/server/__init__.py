"""The one HTTP app (``traindex serve``): JSON API and server-rendered pages, one owner.

``app.create_app`` builds the FastAPI app for one ``Settings``; ``routes`` holds every router
(the JSON endpoints and the page routes, ``routes.web_pages`` and ``routes.web_api``); the
pages' logic (``pages``, ``optout``, ``reports``, ``faces``, ``nearcopy``), sessions,
uploads, thumbnails, rate limits (``limits``; face search's are ``search.face_guard``) and
error mapping (``errors``) live beside them; ``running`` serves the app with uvicorn.
``docs/web.md`` describes what a user sees.
"""
