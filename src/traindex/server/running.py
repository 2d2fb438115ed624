"""Running the app with uvicorn: in the foreground (``traindex serve``) or in a thread.

``serve_in_thread`` binds the socket itself (port 0 picks a free port) before starting
uvicorn, so the address is known at once and the caller only waits for uvicorn's own
"started" flag; browser tests, the screenshot script and the load benchmark use it to run
the real server on loopback.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

__all__ = ["serve_in_thread"]


@contextmanager
def serve_in_thread(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` on ``host:port`` in a daemon thread; yields the base URL; stops on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    ready = threading.Event()
    while not server.started and thread.is_alive():
        ready.wait(0.01)  # uvicorn offers no start hook; poll its flag, no fixed sleep
    if not server.started:
        sock.close()
        raise RuntimeError(f"uvicorn did not start on {host}:{sock.getsockname()[1]}")
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
