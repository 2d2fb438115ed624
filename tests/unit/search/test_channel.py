"""The holder channel (``search.channel``): answers come back as sent, a holder's own
error is re-raised as itself, and nothing is unpickled from a peer that has not proved
the key, in either direction."""

from __future__ import annotations

import os
import pickle
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traindex.errors import InputError
from traindex.search.channel import ChannelError, ChannelServer, HolderChannel

FRAME = struct.Struct("!Q")


def _echo(method: str, args: tuple[Any, ...]) -> Any:
    if method == "fail":
        raise InputError(f"cannot parse text query {args[0]!r}")
    return method, args


@pytest.fixture
def server() -> Iterator[ChannelServer]:
    served = ChannelServer(_echo, "127.0.0.1")
    yield served
    served.close()


class _Touch:
    """Unpickling this creates a file: proof that a peer's bytes were unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.path,))


def _raw(server: ChannelServer) -> socket.socket:
    sock = socket.create_connection(server.address, timeout=5)
    (length,) = FRAME.unpack(sock.recv(FRAME.size, socket.MSG_WAITALL))
    sock.recv(length, socket.MSG_WAITALL)  # the server's nonce
    return sock


def _wait_until_closed_by_peer(sock: socket.socket) -> None:
    """Returns when the server ends the connection; a server that keeps it open makes the
    read time out (an error)."""
    try:
        while sock.recv(4096):
            pass  # the server's proof may come first; then the end
    except ConnectionResetError:
        pass


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None)
@given(method=st.text(min_size=1, max_size=20), args=st.lists(values, max_size=4))
def test_requests_and_answers_arrive_as_sent(method: str, args: list[Any]) -> None:
    served = ChannelServer(_echo, "127.0.0.1")
    channel = HolderChannel(served.address, served.key, 5)
    try:
        channel.send((method, tuple(args)), 5)
        assert channel.receive(5) == (method, tuple(args))
    finally:
        channel.close()
        served.close()


def test_large_arrays_and_several_requests_on_one_channel(server: ChannelServer) -> None:
    channel = HolderChannel(server.address, server.key, 5)
    batch = np.random.default_rng(0).integers(0, 255, (200_000, 32), dtype=np.uint8)
    for i in range(3):
        channel.send(("search", (batch[i:], 31)), 5)
        method, (echoed, radius) = channel.receive(5)
        np.testing.assert_array_equal(echoed, batch[i:])
        assert (method, radius) == ("search", 31)
    channel.close()


def test_a_holder_s_error_is_raised_as_itself_and_the_channel_stays_usable(
    server: ChannelServer,
) -> None:
    channel = HolderChannel(server.address, server.key, 5)
    channel.send(("fail", ("a AND",)), 5)
    with pytest.raises(InputError, match="cannot parse text query 'a AND'"):
        channel.receive(5)
    channel.send(("rows", ("url",)), 5)
    assert channel.receive(5) == ("rows", ("url",))


def test_a_caller_without_the_key_is_refused(server: ChannelServer) -> None:
    with pytest.raises(ChannelError, match="does not hold its key"):
        HolderChannel(server.address, os.urandom(32), 5)


def test_a_holder_without_the_key_is_refused(server: ChannelServer) -> None:
    """The caller unpickles answers, so it checks the holder too (a process that took
    over a dead holder's port must not be believed)."""
    impostor = ChannelServer(_echo, "127.0.0.1")
    with pytest.raises(ChannelError, match="does not hold its key"):
        HolderChannel(impostor.address, server.key, 5)
    impostor.close()


def test_nothing_is_unpickled_before_the_caller_proves_the_key(
    server: ChannelServer, tmp_path: Path
) -> None:
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(("search", (_Touch(marker),)))
    # as the nonce (too long: refused unread), then as the proof, then as a request
    as_nonce = _raw(server)
    as_nonce.sendall(FRAME.pack(len(payload)) + payload)
    _wait_until_closed_by_peer(as_nonce)
    as_proof = _raw(server)
    as_proof.sendall(FRAME.pack(32) + os.urandom(32) + FRAME.pack(len(payload)) + payload)
    _wait_until_closed_by_peer(as_proof)
    assert not marker.exists()


def test_a_huge_declared_length_is_refused_unread(server: ChannelServer) -> None:
    sock = _raw(server)
    sock.sendall(FRAME.pack(2**62))
    _wait_until_closed_by_peer(sock)
    channel = HolderChannel(server.address, server.key, 5)  # the server still serves
    channel.send(("rows", ()), 5)
    assert channel.receive(5) == ("rows", ())


def test_a_silent_connection_does_not_hold_up_other_callers(server: ChannelServer) -> None:
    idle = socket.create_connection(server.address)  # never says a word
    channel = HolderChannel(server.address, server.key, 5)
    channel.send(("knn", (3,)), 5)
    assert channel.receive(5) == ("knn", (3,))
    idle.close()


def test_no_answer_within_the_timeout_is_a_channel_error() -> None:
    release = threading.Event()

    def stuck(method: str, args: tuple[Any, ...]) -> Any:
        release.wait()
        return None

    served = ChannelServer(stuck, "127.0.0.1")
    channel = HolderChannel(served.address, served.key, 5)
    channel.send(("search", ()), 5)
    with pytest.raises(ChannelError, match="no answer"):
        channel.receive(0.2)
    release.set()
    served.close()


def test_an_ended_holder_is_a_channel_error(server: ChannelServer) -> None:
    channel = HolderChannel(server.address, server.key, 5)
    server.close()

    def ask() -> None:  # the request may still land in the socket's buffer: then no answer
        channel.send(("search", ()), 5)
        channel.receive(5)

    with pytest.raises(ChannelError):
        ask()
    with pytest.raises(ChannelError, match="cannot reach"):
        HolderChannel(server.address, server.key, 5)
