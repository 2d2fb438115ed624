"""The part of the ``ray`` module a fan-out's ``gather`` uses, faked for unit tests: an
answer is its own reference, an exception stored as the answer is raised by ``get``.
The real cluster is in tests/integration/test_ray_fanout*.py."""

from __future__ import annotations

from typing import Any


class RayError(Exception):
    """Stands for ``ray.exceptions.RayError``: a holder that did not answer in time."""


class FakeRay:
    class exceptions:  # noqa: N801 - the attribute path of ``ray.exceptions``
        RayError = RayError

        class RayTaskError(RayError):
            def as_instanceof_cause(self) -> Exception:
                return ValueError("bad query")

    @staticmethod
    def get(ref: Any, timeout: float) -> Any:
        if isinstance(ref, Exception):
            raise ref
        return ref
