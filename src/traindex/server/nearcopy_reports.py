"""The near-copy report as a download: HTML, or a PDF signed with the operator key.

Why a signed token and not the files: the safety rules say an uploaded image is kept no
longer than its request, and the report shows the uploads (thumbnails made in that
request). So the results page carries the rendered report in one hidden form field,
compressed and signed with the app's secret (itsdangerous, timestamped, valid for
``web_session_seconds``); its buttons post it back to ``POST /nearcopy/report`` (CSRF
token, per-client rate limit as for evidence reports) and get the same report as HTML, or
as a PDF with a PAdES signature by the key ``/.well-known/traindex-keys.json`` lists.
Nobody can have a report signed that this site did not render: a token it did not sign
is refused. No image and no server-side state is kept.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.responses import Response

from traindex.bootstrap import Services
from traindex.errors import InputError
from traindex.evidence.render import html_to_pdf
from traindex.server.sessions import app_secret

__all__ = ["FORMATS", "NearCopyReports"]

FORMATS = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


class NearCopyReports:
    """Sign a rendered report into a token, and turn a token back into a download."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.services = services
        self.max_age = settings.web_session_seconds
        self.signer = URLSafeTimedSerializer(app_secret(settings), salt="traindex-nearcopy-report")

    def token(self, html: str) -> str:
        token: str = self.signer.dumps(html)
        return token

    def load(self, token: str) -> str:
        """The report HTML the token holds; ``InputError`` if forged, edited or expired."""
        try:
            html = self.signer.loads(token, max_age=self.max_age)
        except SignatureExpired as exc:
            raise InputError("this report has expired: check the images again") from exc
        except BadSignature as exc:
            raise InputError("this report was not made by this site") from exc
        if not isinstance(html, str):
            raise InputError("this report was not made by this site")
        return html

    def download(self, html: str, fmt: str) -> Response:
        """The report as an attachment; the PDF signed like evidence report PDFs."""
        if fmt not in FORMATS:
            raise InputError(f"a near-copy report is html or pdf, not {fmt!r}")
        if fmt == "html":
            content = html.encode("utf-8")
        else:
            pdf = html_to_pdf(html)
            content = self.services.evidence.signed_pdf(pdf, "traindex near-copy report")
        headers = {
            "Content-Disposition": f'attachment; filename="traindex-nearcopy.{fmt}"',
            "X-Content-Type-Options": "nosniff",
        }
        return Response(content, media_type=FORMATS[fmt], headers=headers)
