"""A registry server's bulk check API, from the builder's side (``--registry URL``).

``traindex filter --registry URL`` and ``traindex registry check --registry URL`` ask a
remote registry the same questions the home registry answers in process: items (URLs,
``sha256:``/``md5:``/``pdq:``/``iscc:`` digests) in, one ``Decision`` per item out. Items
go in calls of at most 10,000 (the server's ``registry_check_max_items`` default); an
unreachable server or an error answer raises ``TraindexError`` naming the endpoint, never
an empty answer a builder could mistake for "no claims".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from traindex.errors import TraindexError
from traindex.registry.models import Decision

__all__ = ["CHECK_CHUNK", "RegistryClient"]

CHECK_CHUNK = 10_000


def _decision(data: dict[str, Any]) -> Decision:
    return Decision(
        str(data["item"]),
        data["decision"],
        tuple(str(i) for i in data.get("claim_ids") or ()),
        bool(data.get("verified")),
        tuple(str(i) for i in data.get("unverified_claim_ids") or ()),
        data.get("error"),
    )


class RegistryClient:
    """``POST <base>/api/registry/check`` over one HTTP client."""

    def __init__(self, base_url: str, *, timeout: float = 60) -> None:
        self.base_url = base_url
        self.endpoint = base_url.rstrip("/") + "/api/registry/check"
        self.timeout = timeout
        self.http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def check(self, items: Sequence[str], *, count_unverified: bool = False) -> list[Decision]:
        """One decision per item, in order."""
        decisions: list[Decision] = []
        for start in range(0, len(items), CHECK_CHUNK):
            body = {"items": list(items[start : start + CHECK_CHUNK]),
                    "count_unverified": count_unverified}  # fmt: skip
            try:
                response = self.http.post(self.endpoint, json=body)
            except httpx.HTTPError as exc:
                raise TraindexError(f"registry {self.endpoint} unreachable: {exc}") from None
            if response.status_code != 200:
                raise TraindexError(
                    f"registry {self.endpoint} answered HTTP {response.status_code}: "
                    f"{response.text[:300]}"
                )
            decisions.extend(_decision(d) for d in response.json()["decisions"])
        return decisions
