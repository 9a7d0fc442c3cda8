"""Shared plumbing for HTTP benchmarks: a fresh database, a real server, a closed-loop load.

The database gets an owner and an API token, which every request carries, as a real client's
would: what is measured includes checking it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
from sqlalchemy import create_engine, text

from leanstock.adapters.auth.credentials import new_password
from leanstock.adapters.db.engine import make_engine, normalise_url, upgrade
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Role
from leanstock.services import accounts, tokens

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _owner_token(url: str) -> str:
    """Migrate the database, add the bench's owner, and return an API token of theirs."""
    engine = make_engine(url)
    upgrade(engine)
    uow = UnitOfWork(engine)
    owner = accounts.create_user(uow, "bench@leanstock.example", new_password(), Role.OWNER)
    token = tokens.create_token(uow, owner.id, "bench", lifetime=timedelta(days=1)).secret
    engine.dispose()
    return token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def fresh_database(choice: str | None) -> Iterator[tuple[str, str, str]]:
    """(kind, url, owner's API token) of an empty, migrated database: a temp SQLite file or a
    new PG schema."""
    choice = choice or "sqlite"
    if choice == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.db"
            yield "sqlite", url, _owner_token(url)
        return
    base = os.environ.get("LEANSTOCK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    if choice not in ("postgres", "postgresql"):
        base = choice
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    try:
        yield "postgresql", url, _owner_token(url)
    finally:
        with admin.connect() as db:
            db.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(url: str, workers: int) -> Iterator[str]:
    """Run `leanstock serve` on the database in its own processes; yield its base URL."""
    port = _free_port()
    env = {**os.environ, "LEANSTOCK_DATABASE_URL": url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leanstock.entrypoints.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a busy shared machine starts slowly
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("The API server did not start within 120 s.")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    moves: int = 0
    wall: float = 0.0

    def figures(self) -> dict[str, object]:
        ms = np.array(self.latencies) * 1000
        return {
            "requests": len(self.latencies),
            "requests_per_s": round(len(self.latencies) / self.wall, 1),
            "moves": self.moves,
            "moves_per_s": round(self.moves / self.wall, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "wall_s": round(self.wall, 2),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


class Connection:
    """A minimal HTTP/1.1 keep-alive client connection for load generation.

    httpx costs about as much CPU per request as the server does; on a 2-core machine that
    would measure the client. This speaks just enough HTTP/1.1 (JSON bodies, Content-Length
    framing, which is what the API answers with) to cost little.
    """

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Authorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        data = await self.reader.readexactly(length)
        return status, json.loads(data) if data else None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


Step = Callable[[Connection, int, int], Awaitable[tuple[int, int]]]


async def closed_loop(base: str, token: str, clients: int, seconds: float, step: Step) -> Load:
    """`clients` concurrent loops, each sending its next request when the last is answered.

    `step(connection, worker, n)` sends one request and returns (status, moves posted).
    """
    load = Load()
    address = base.removeprefix("http://")
    host, port = address.split(":")
    stop = time.perf_counter() + seconds

    async def worker(w: int) -> None:
        connection = Connection(host, int(port), token)
        n = 0
        try:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                status, moves = await step(connection, w, n)
                load.latencies.append(time.perf_counter() - started)
                load.statuses[status] = load.statuses.get(status, 0) + 1
                load.moves += moves
                n += 1
        finally:
            connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(clients)))
    load.wall = time.perf_counter() - began
    return load
