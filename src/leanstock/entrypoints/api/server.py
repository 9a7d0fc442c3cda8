"""Serve the API on uvicorn, one process per worker, each with its own SO_REUSEPORT socket.

On SIGTERM (or Ctrl+C) each worker stops accepting connections, lets the requests in flight
finish for up to `LEANSTOCK_SHUTDOWN_SECONDS` (30 by default; then it cancels them, and
their transactions roll back), and exits.

uvicorn's own `--workers` share one listening socket, and whichever process wakes first
accepts: a burst of keep-alive connections (a load balancer's pool, a benchmark) can land on
one worker while the others idle. With a socket per worker bound with SO_REUSEPORT, the
kernel spreads new connections over the workers by their address hash (Linux 3.9+).
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
from types import FrameType

import uvicorn

APP = "leanstock.entrypoints.api.app:serve_app"


def _shutdown_seconds() -> int:
    from leanstock.config import get_settings

    return get_settings().shutdown_seconds


def _config() -> uvicorn.Config:
    return uvicorn.Config(
        APP,
        factory=True,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=_shutdown_seconds(),
    )


def _worker(host: str, port: int) -> None:
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((host, port))
    listener.listen(2048)
    uvicorn.Server(_config()).run(sockets=[listener])


def serve(host: str, port: int, workers: int) -> None:
    """Run `workers` server processes on host:port until interrupted."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(
            APP,
            factory=True,
            host=host,
            port=port,
            workers=max(workers, 1),
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=_shutdown_seconds(),
        )
        return
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker, args=(host, port)) for _ in range(workers)]
    for process in processes:
        process.start()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        for process in processes:
            process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.join()
    if any(process.exitcode not in (0, -signal.SIGTERM) for process in processes):
        sys.exit(1)
