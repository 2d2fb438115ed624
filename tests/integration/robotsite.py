"""A site for signal tests on 127.0.0.1: robots.txt (``robots``) reserves ``/private/`` for
every crawler, ``*.jpg`` paths answer a tiny JPEG (with a ``Content-Usage`` header when
``usage()`` gives one), the rest 404. Each request's path is appended to the server's
``seen`` list when it has one (to count robots.txt fetches). Subclasses change
``robots``, ``usage`` or ``do_GET``."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

__all__ = ["ROBOTS", "ReservingSite"]

ROBOTS = b"User-agent: *\nDisallow: /private/\n"


class ReservingSite(BaseHTTPRequestHandler):
    robots = ROBOTS

    def usage(self) -> str | None:
        """The ``Content-Usage`` header of an image response (none here)."""
        return None

    def do_GET(self) -> None:
        seen = getattr(self.server, "seen", None)
        if seen is not None:
            seen.append(self.path)
        usage = None
        if self.path == "/robots.txt":
            body, kind = self.robots, "text/plain"
        elif self.path.endswith(".jpg"):
            body, kind, usage = b"\xff\xd8\xff\xd9", "image/jpeg", self.usage()
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        if usage is not None:
            self.send_header("Content-Usage", usage)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        del args
