"""Image-search results carried in the page, signed, so a report needs no second upload.

Why this and not re-uploading or keeping the files: the safety rules say a query image is
kept no longer than its request. A report built later (``POST /report`` from the results
page) therefore cannot see the images again, and a search by their fingerprints alone
would not find what the first search found (PDQ variants and keypoints need the pixels).
So the results page carries what the report needs — each file's name, SHA-256 and PDQ,
and every match as ``traindex search --json`` writes it — in one hidden form field,
compressed and signed with the app's secret (itsdangerous, timestamped). The report
trusts only a token this app signed within ``web_session_seconds``, so nobody can slip
invented rows into a signed report; no image and no server-side state is kept.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from traindex.config import Settings
from traindex.errors import InputError
from traindex.evidence.build import SearchRun, runs_from_json
from traindex.evidence.model import ImageDigests
from traindex.search.image_results import ImageSearchResult
from traindex.server.sessions import app_secret

__all__ = ["SignedResults"]


class SignedResults:
    """Dump an image-search result into a token and read it back as a ``SearchRun``."""

    def __init__(self, settings: Settings) -> None:
        self.max_age = settings.web_session_seconds
        self.signer = URLSafeTimedSerializer(app_secret(settings), salt="traindex-image-result")

    def dump(self, result: ImageSearchResult) -> str:
        digests = {q.name: [q.sha256 or None, q.pdq] for q in result.queries if not q.error}
        return self.dump_answer(result.to_json(), digests)

    def dump_answer(
        self, answer: dict[str, Any], digests: dict[str, list[str | None]] | None = None
    ) -> str:
        """Sign any ``traindex search --json`` answer (a watch alert's rows, too), with the
        query files' ``[sha256, pdq]`` by name for image answers."""
        token: str = self.signer.dumps({"answer": answer, "digests": digests or {}})
        return token

    def load(self, token: str) -> SearchRun:
        """The search run the token holds; ``InputError`` if forged, edited or expired."""
        try:
            data: dict[str, Any] = self.signer.loads(token, max_age=self.max_age)
        except SignatureExpired as exc:
            raise InputError("these search results have expired: search again") from exc
        except BadSignature as exc:
            raise InputError("these search results were not made by this site") from exc
        run = runs_from_json(data["answer"])[0]
        for name, (sha256, pdq) in data["digests"].items():
            run.images[name] = ImageDigests(sha256=sha256, pdq=pdq)
        return run
