"""Server CPU and statements per stock document for the `bench ledger` mix, at any commit.

    PYTHONPATH=<checkout>/src python scripts/cpu_per_request.py ITEMS DOCUMENTS ROUNDS

e.g. `300 400 2`: a fresh PostgreSQL schema (LEANSTOCK_BENCH_POSTGRES_URL, as `leanstock bench`),
300 items seeded, then twice 400 documents of the bench's mix sent one after another (a
reservation and its release count as one document of two requests). It prints, per round, the
server's CPU milliseconds per document, the CPU of the PostgreSQL backends serving it, and the
statements sent per document (`before_cursor_execute`; psycopg's own BEGIN and the COMMIT are
not counted), as JSON; with SHOW_SQL=1 also the statements of the last round by count.
CPU per document is far less sensitive to a busy machine than the benchmark's throughput
(docs/performance.md, "Since 145b9bf"). It uses only what every commit since 145b9bf has
(`benchmarks._http.fresh_database`, `create_app`/`serve_app`), so it can bisect.

Run with the checkout's src first on PYTHONPATH. The server (the commit's own app, as
`leanstock serve` builds it) runs in this process on uvicorn in a thread; the client is a
child process sending N sequential requests, so process_time() here is the server's CPU.
PostgreSQL backend CPU of the server's connections is read from /proc.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- client (child process)
class Conn:
    def __init__(self, port: int, token: str | None) -> None:
        self.port, self.token = port, token
        self.r: asyncio.StreamReader | None = None
        self.w: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if self.w is None:
            self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.r is not None
        payload = b"" if body is None else json.dumps(body).encode()
        auth = f"Authorization: Bearer {self.token}\r\n" if self.token else ""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.w.write(head.encode() + payload)
        status = int((await self.r.readline()).split()[1])
        length = 0
        while True:
            line = await self.r.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        data = await self.r.readexactly(length)
        return status, json.loads(data) if data else None


LOC = ("WH", "STORE")


def lines(rng: random.Random, items: int, most: int, largest: int) -> list[dict[str, Any]]:
    skus = rng.sample(range(items), rng.randint(1, most))
    return [{"sku": f"SKU-{i:05d}", "quantity": rng.randint(1, largest)} for i in sorted(skus)]


async def step(
    items: int, http: Conn, worker: int, n: int, kinds: dict[str, int]
) -> tuple[int, int]:
    rng = random.Random(worker * 1_000_003 + n)
    roll = rng.random()
    if roll < 0.25:
        kinds["receipt"] += 1
        s, a = await http.request(
            "POST",
            "/api/v1/stock/receipts",
            {"location": rng.choice(LOC), "lines": lines(rng, items, 6, 20)},
        )
    elif roll < 0.5:
        kinds["transfer"] += 1
        src, dst = rng.sample(LOC, 2)
        s, a = await http.request(
            "POST",
            "/api/v1/stock/transfers",
            {"source": src, "target": dst, "lines": lines(rng, items, 4, 5)},
        )
    elif roll < 0.8:
        kinds["shipment"] += 1
        s, a = await http.request(
            "POST",
            "/api/v1/stock/shipments",
            {"location": rng.choice(LOC), "lines": lines(rng, items, 3, 5)},
        )
    else:
        kinds["reservation"] += 1
        sku = f"SKU-{rng.randrange(items):05d}"
        s, a = await http.request(
            "POST",
            "/api/v1/reservations",
            {"sku": sku, "location": "WH", "quantity": 1, "reference": f"bench-{worker}-{n}"},
        )
        if s == 201:
            s, _ = await http.request("POST", f"/api/v1/reservations/{a['id']}/release", {})
        return s, 0
    return s, len(a["moves"]) if s == 201 else 0


async def client_main(port: int, token: str | None, items: int, n: int, worker: int) -> None:
    statuses: dict[int, int] = {}
    kinds = {"receipt": 0, "transfer": 0, "shipment": 0, "reservation": 0}
    moves = 0
    clients = int(os.environ.get("CLIENTS", "1"))

    async def loop(c: int) -> None:
        nonlocal moves
        http = Conn(port, token)
        for i in range(c, n, clients):
            s, m = await step(items, http, worker, i, kinds)
            statuses[s] = statuses.get(s, 0) + 1
            moves += m

    t0 = time.perf_counter()
    await asyncio.gather(*(loop(c) for c in range(clients)))
    print(
        json.dumps(
            {"statuses": statuses, "moves": moves, "kinds": kinds, "wall": time.perf_counter() - t0}
        )
    )


def seed(port: int, token: str | None, items: int) -> None:
    import httpx

    h = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=60, headers=h) as api:
        for code, kind in (("WH", "warehouse"), ("STORE", "store")):
            api.post(
                "/locations", json={"code": code, "name": code, "kind": kind}
            ).raise_for_status()
        for i in range(items):
            api.post("/items", json={"sku": f"SKU-{i:05d}", "name": f"Item {i}"}).raise_for_status()
            api.post(
                "/stock/receipts", json={"sku": f"SKU-{i:05d}", "location": "WH", "quantity": 1000}
            ).raise_for_status()


# ---------------------------------------------------------------- server (this process)
def proc_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except FileNotFoundError:
        return 0.0


def server_main(items: int, n: int, rounds: int) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    import leanstock
    from leanstock.benchmarks import _http

    counts = {"stmts": 0, "tx": 0}
    by_sql: dict[str, int] = {}
    backends: set[int] = set()

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        counts["stmts"] += 1
        key = " ".join(statement.split())[:90]
        by_sql[key] = by_sql.get(key, 0) + 1

    @event.listens_for(Engine, "commit")
    def _commit(conn):  # type: ignore[no-untyped-def]
        counts["tx"] += 1

    @event.listens_for(Engine, "rollback")
    def _rollback(conn):  # type: ignore[no-untyped-def]
        counts["tx"] += 1

    @event.listens_for(Pool, "connect")
    def _pid(dbapi_conn, record):  # type: ignore[no-untyped-def]
        pid = getattr(getattr(dbapi_conn, "info", None), "backend_pid", None)
        if pid:
            backends.add(int(pid))

    with _http.fresh_database("postgres") as got:
        url = got[1]
        token = got[2] if len(got) > 2 else None
        os.environ["LEANSTOCK_DATABASE_URL"] = url
        os.environ.setdefault("LEANSTOCK_LOG_FILE", "/dev/null")
        from leanstock import config

        config.get_settings.cache_clear()
        from leanstock.entrypoints.api import app as app_module

        factory = getattr(app_module, "serve_app", None) or app_module.create_app
        app = factory()
        import uvicorn

        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        )
        th = threading.Thread(target=server.run, daemon=True)
        th.start()
        while not server.started:
            time.sleep(0.05)
        seed(port, token, items)
        results = []
        for r in range(rounds):
            st0 = counts["stmts"]
            tx0 = counts["tx"]
            by_sql.clear()
            cpu0 = time.process_time()
            pg0 = {p: proc_cpu(p) for p in backends}
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "client",
                    str(port),
                    token or "",
                    str(items),
                    str(n),
                    str(r + 1),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            cpu = time.process_time() - cpu0
            pg = sum(proc_cpu(p) - pg0.get(p, 0.0) for p in backends)
            c = json.loads(out.stdout)
            reqs = (
                sum(c["statuses"].values()) + c["kinds"]["reservation"]
            )  # release is a 2nd request
            results.append(
                {
                    "cpu_ms_per_doc": round(1000 * cpu / n, 2),
                    "pg_ms_per_doc": round(1000 * pg / n, 2),
                    "stmts_per_doc": round((counts["stmts"] - st0) / n, 2),
                    "tx_per_doc": round((counts["tx"] - tx0) / n, 2),
                    "http_requests": reqs,
                    "moves": c["moves"],
                    "statuses": c["statuses"],
                    "wall_ms_per_doc": round(1000 * c["wall"] / n, 1),
                }
            )
        top = sorted(by_sql.items(), key=lambda kv: -kv[1])[:25]
        server.should_exit = True
        th.join(10)
    print(
        json.dumps(
            {"leanstock": leanstock.__file__, "rounds": results, "load": os.getloadavg()},
            indent=None,
        )
    )
    if os.environ.get("SHOW_SQL"):
        for k, v in top:
            print(f"{v / n:6.2f} {k}")


if __name__ == "__main__":
    if sys.argv[1] == "client":
        _, _, port, token, items, n, worker = sys.argv
        asyncio.run(client_main(int(port), token or None, int(items), int(n), int(worker)))
    else:
        server_main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
