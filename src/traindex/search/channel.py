"""A direct, mutually authenticated request channel between a search and an index holder.

Why not a Ray actor call per query: on this project's machines a Ray actor call costs the
caller ~0.5 ms of CPU (task submission, reply handling), so a search fanned out over two
holders paid ~1.2 ms before any index work, more than an exact-URL look-up itself takes
(``bench/fanout_search.py``). A socket round trip costs ~0.1 ms. So Ray places, starts and
supervises the holders (``search.placement``), and each holder also listens on a TCP port
of its node; the caller learns the port and a random key from the holder through Ray,
and the key is never written anywhere, so only a process that may call into the cluster
can use the channel.

Both ends prove they know the key before anything is unpickled: each sends a random
nonce and answers the other's with an HMAC-SHA256 of it, tagged by role so that an answer
cannot be reflected back. Messages are length-prefixed pickles (``pickle`` is safe here
only because both ends are authenticated; a frame longer than the receiver's limit closes
the connection unread).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import pickle
import secrets
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

from traindex.errors import TraindexError

__all__ = ["ChannelError", "ChannelServer", "HolderChannel", "Request"]

Request = tuple[str, tuple[Any, ...]]
"""What a caller asks: an index method's name and its arguments."""

_LENGTH = struct.Struct("!Q")
_NONCE_BYTES = 32
_HANDSHAKE_SECONDS = 5.0
_REQUEST_LIMIT = 256 * 2**20  # a query batch: hashes, vectors, a few keys
_ANSWER_LIMIT = 4 * 2**30  # an answer: up to every hit of a large batch


class ChannelError(TraindexError):
    """The holder could not be reached or answered out of protocol (its shards count as
    not searched); a holder's own exception is re-raised as itself instead."""


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_LENGTH.pack(len(payload)) + payload)


def _receive(sock: socket.socket, limit: int) -> bytes:
    (length,) = _LENGTH.unpack(_exactly(sock, _LENGTH.size))
    if length > limit:
        raise ChannelError(f"a {length}-byte message is over the channel's {limit}-byte limit")
    return _exactly(sock, length)


def _exactly(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            raise ChannelError("the other end closed the channel")
        got += n
    return bytes(buffer)


def _proof(key: bytes, role: bytes, nonce: bytes) -> bytes:
    return hmac.new(key, role + nonce, hashlib.sha256).digest()


def _handshake(sock: socket.socket, key: bytes, mine: bytes, theirs: bytes) -> None:
    """Prove ``key`` to the other end and check its proof; raises ``ChannelError``."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    _send(sock, nonce)
    their_nonce = _receive(sock, _NONCE_BYTES)
    _send(sock, _proof(key, mine, their_nonce))
    if not hmac.compare_digest(_receive(sock, 64), _proof(key, theirs, nonce)):
        raise ChannelError("the other end of the channel does not hold its key")


class ChannelServer:
    """Answers authenticated requests with ``handler(method, args)``, one at a time (as
    a Ray actor would), each connection in its own thread so that a slow or hostile
    client cannot hold up the others."""

    def __init__(self, handler: Callable[[str, tuple[Any, ...]], Any], host: str) -> None:
        self.key = secrets.token_bytes(32)
        self._handler = handler
        self._serial = threading.Lock()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._listener = socket.create_server((host, 0))
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        threading.Thread(target=self._accept, name="holder-channel", daemon=True).start()

    def close(self) -> None:
        """Stop listening and end every open connection, as the holder's exit would."""
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (close alone does not)
        self._listener.close()
        with self._open_lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        with self._open_lock:
            self._open.add(sock)
        try:
            with sock, contextlib.suppress(ChannelError, OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.settimeout(_HANDSHAKE_SECONDS)
                _handshake(sock, self.key, b"holder", b"caller")
                sock.settimeout(None)
                while True:
                    method, args = pickle.loads(_receive(sock, _REQUEST_LIMIT))
                    _send(sock, self._answer(method, args))
        finally:
            with self._open_lock:
                self._open.discard(sock)

    def _answer(self, method: str, args: tuple[Any, ...]) -> bytes:
        try:
            with self._serial:
                return pickle.dumps(("ok", self._handler(method, args)), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # the caller re-raises it: an error of the query
            try:
                return pickle.dumps(("error", exc))
            except Exception:  # an exception that does not pickle: its text does
                return pickle.dumps(("error", TraindexError(f"{type(exc).__name__}: {exc}")))


class HolderChannel:
    """One connection to a holder's ``ChannelServer``: ``send`` a request, then
    ``receive`` its answer (several holders' requests can be in flight at once)."""

    def __init__(self, address: tuple[str, int], key: bytes, timeout: float) -> None:
        try:
            self._sock = socket.create_connection(address, timeout=timeout)
        except OSError as exc:
            raise ChannelError(f"cannot reach the holder at {address}: {exc}") from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            _handshake(self._sock, key, b"caller", b"holder")
        except (OSError, ChannelError) as exc:
            self.close()
            raise ChannelError(f"no channel to the holder at {address}: {exc}") from exc

    def send(self, request: Request, timeout: float) -> None:
        self._sock.settimeout(timeout)
        try:
            _send(self._sock, pickle.dumps(request, pickle.HIGHEST_PROTOCOL))
        except OSError as exc:
            raise ChannelError(f"cannot send to the holder: {exc}") from exc

    def receive(self, timeout: float) -> Any:
        """The answer, or the holder's exception raised; ``ChannelError`` when it does not
        come within ``timeout`` seconds (the channel is then unusable: close it)."""
        self._sock.settimeout(max(timeout, 0.001))
        try:
            status, value = pickle.loads(_receive(self._sock, _ANSWER_LIMIT))
        except OSError as exc:  # includes the timeout
            raise ChannelError(f"no answer from the holder: {exc}") from exc
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        self._sock.close()
