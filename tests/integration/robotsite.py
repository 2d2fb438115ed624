"""A site for signal tests on 127.0.0.1: robots.txt reserves ``/private/`` for every
crawler, ``*.jpg`` paths answer a tiny JPEG, the rest 404. Each request's path is appended
to the server's ``seen`` list when it has one (to count robots.txt fetches)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

__all__ = ["ROBOTS", "ReservingSite"]

ROBOTS = b"User-agent: *\nDisallow: /private/\n"


class ReservingSite(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        seen = getattr(self.server, "seen", None)
        if seen is not None:
            seen.append(self.path)
        if self.path == "/robots.txt":
            body, kind = ROBOTS, "text/plain"
        elif self.path.endswith(".jpg"):
            body, kind = b"\xff\xd8\xff\xd9", "image/jpeg"
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        del args
