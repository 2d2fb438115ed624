"""Index holders served in this process, for unit tests of ``search.fanout``: each
holder's part answers over a real ``search.channel`` server on 127.0.0.1; only the part
of the ``ray`` module a fan-out uses to find a holder (its actor, its endpoint) is faked.
The real cluster is in tests/integration/test_ray_fanout*.py."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from typing import Any

from traindex.jobs.ray import RayOptions
from traindex.search.channel import ChannelServer
from traindex.search.placement import Holder, IndexKind

Endpoint = tuple[tuple[str, int], bytes]


class RayError(Exception):
    """Stands for ``ray.exceptions.RayError``."""


class _Method:
    def __init__(self, value: Endpoint) -> None:
        self.value = value

    def remote(self) -> Endpoint:
        return self.value  # an answer is its own reference


class _Actor:
    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = _Method(endpoint)


class FakeRay:
    class exceptions:  # noqa: N801 - the attribute path of ``ray.exceptions``
        RayError = RayError

    def __init__(self, servers: dict[str, ChannelServer]) -> None:
        self.servers = servers  # live: a test may replace a holder

    def get_actor(self, name: str, namespace: str) -> _Actor:
        if name not in self.servers:
            raise ValueError(f"Failed to look up actor with name {name!r}")
        return _Actor((self.servers[name].address, self.servers[name].key))

    @staticmethod
    def get(ref: Endpoint, timeout: float) -> Endpoint:
        return ref


class InProcessHolders:
    """Mix in before a ``Fanout*`` class: ``parts`` (holder actor -> the part it holds)
    answer over channels. Holders in ``gone`` have no actor; those in ``silent`` never
    answer (until ``close``)."""

    def __init__(
        self,
        parts: dict[str, Any],
        holders: list[Holder],
        kind: IndexKind,
        *,
        gone: Collection[str] = (),
        silent: Collection[str] = (),
        unplaced: Sequence[str] = (),
        timeout: float = 5.0,
    ) -> None:
        self.parts = parts
        self.released = threading.Event()
        self.servers = {
            actor: self.serve(part, silent=actor in silent)
            for actor, part in parts.items()
            if actor not in gone
        }
        super().__init__(holders, RayOptions(), timeout, kind, unplaced)  # type: ignore[call-arg]

    def serve(self, part: Any, *, silent: bool = False) -> ChannelServer:
        def answer(method: str, args: tuple[Any, ...]) -> Any:
            if silent:
                self.released.wait()
            return getattr(part, method)(*args)

        return ChannelServer(answer, "127.0.0.1")

    def _connect(self, options: RayOptions) -> FakeRay:
        return FakeRay(self.servers)

    def close(self) -> None:
        self.released.set()
        for server in self.servers.values():
            server.close()
