"""Serving the app with uvicorn, one process or several sharing one socket (`qinqing serve`).

uvicorn takes uvloop and httptools, both dependencies, by itself when they are installed."""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess


class TcpConfig(uvicorn.Config):
    """uvicorn binds the socket that `--workers N` share with `proto` 0, so asyncio never sets
    TCP_NODELAY on their connections and every keep-alive response after the first waits about
    40 ms for the client's delayed ACK (uvicorn issue #3149).  Re-wrapping the descriptor lets the
    kernel report IPPROTO_TCP, which the worker processes inherit."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            sock = socket.socket(fileno=sock.detach())
            sock.set_inheritable(True)
        return sock


def serve(host: str, port: int, workers: int = 1) -> None:
    config = TcpConfig("web.app:create_app", factory=True, host=host, port=port, workers=workers,
                       log_level="warning", proxy_headers=True)
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        raise SystemExit(3)  # uvicorn's STARTUP_FAILURE: the port is taken, the app failed to load, …
