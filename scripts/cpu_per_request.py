"""Server CPU and statements per stock document (`bench ledger`) or order (`bench orders`).

    PYTHONPATH=<checkout>/src python scripts/cpu_per_request.py ITEMS DOCUMENTS ROUNDS [MIX]

e.g. `300 400 2`: a fresh PostgreSQL schema (LEANSTOCK_BENCH_POSTGRES_URL, as `leanstock bench`),
300 items seeded, then twice 400 documents of the bench's mix sent one after another (a
reservation and its release count as one document of two requests). It prints, per round, the
server's CPU milliseconds per document, the CPU of the PostgreSQL backends serving it, and the
statements sent per document (`before_cursor_execute`; psycopg's own BEGIN and the COMMIT are
not counted), as JSON; with SHOW_SQL=1 also the statements of the last round by count.

MIX `orders` sends `bench orders`' mix instead (`benchmarks/orders.py`): a fifth of the items
bought to order from 10 suppliers, the rest stocked, and confirmed sales orders of one to
three lines; the figures are then per confirmed order (`orders` in the output). MIX `lots`
sends lot-tracked documents (what migration 0026 posts in one step): lot-tracked items with
a lot L0 at WH, then receipts of one to four lines naming lots L0-L4 (each with its fixed
expiry date), scraps (half naming L0, half first-expired-first-out) and shipments of one to
three lines, 40/30/30; the figures are per document as for the ledger.
LEANSTOCK_BENCH_DATABASE=sqlite runs the server over a temp SQLite file instead (WAL, as
`leanstock bench ... --database sqlite`); SQLite's work is then in the server's own CPU and
the PostgreSQL column is 0. PUBLISHER=1 also runs the webhook publisher's thread in this
process, as `leanstock serve` does with one worker (SQLite); CLIENTS=8 sends from 8
connections at once, as the benchmarks do. PYSPY_OUT=FILE records the rounds with
`py-spy record --gil -r 200 -f raw` (py-spy on PATH), all but the first round (in which
FastAPI builds its routers' routes the first time each is matched).
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


SUPPLIERS = 10
PULLED_SHARE = 0.2
LOTS = 5


def lot_expiry(k: int) -> str:
    """Lot Lk's expiry date: fixed per code, so a known lot is always named with its own."""
    import datetime

    return (datetime.date.today() + datetime.timedelta(days=100 + 10 * k)).isoformat()


async def lot_step(
    items: int, http: Conn, worker: int, n: int, kinds: dict[str, int]
) -> tuple[int, int]:
    """MIX `lots`: a receipt naming lots, a scrap or a shipment of lot-tracked items."""
    rng = random.Random(worker * 1_000_003 + n)
    roll = rng.random()
    if roll < 0.4:
        kinds["receipt"] += 1
        found = lines(rng, items, 4, 20)
        for line in found:
            k = rng.randrange(LOTS)
            line["lot"] = f"L{k}"
            line["expires_on"] = lot_expiry(k)
        body: dict[str, Any] = {"location": rng.choice(LOC), "lines": found}
        s, a = await http.request("POST", "/api/v1/stock/receipts", body)
    elif roll < 0.7:
        kinds["scrap"] = kinds.get("scrap", 0) + 1
        body = {
            "sku": f"SKU-{rng.randrange(items):05d}",
            "location": "WH",
            "quantity": rng.randint(1, 2),
            "reason": "damage",
        }
        if rng.random() < 0.5:
            body["lot"] = "L0"
        s, a = await http.request("POST", "/api/v1/stock/scraps", body)
    else:
        kinds["shipment"] += 1
        body = {"location": "WH", "lines": lines(rng, items, 3, 3)}
        s, a = await http.request("POST", "/api/v1/stock/shipments", body)
    return s, len(a["moves"]) if s == 201 else 0


async def order_step(
    items: int, http: Conn, worker: int, n: int, kinds: dict[str, int]
) -> tuple[int, int]:
    """As `benchmarks.orders._step`: one confirmed sales order of one to three lines."""
    rng = random.Random(worker * 1_000_003 + n)
    skus = rng.sample(range(items), rng.randint(1, 3))
    body: dict[str, Any] = {
        "customer": f"customer-{rng.randrange(1000)}",
        "location": "WH",
        "confirm": True,
        "lines": [{"sku": f"SKU-{i:05d}", "quantity": rng.randint(1, 4)} for i in skus],
    }
    s, a = await http.request("POST", "/api/v1/sales-orders", body)
    if s == 201:
        kinds["order"] += 1
        for line in a["lines"]:
            kinds[line["fulfilment"]] = kinds.get(line["fulfilment"], 0) + 1
    return s, 0


async def client_main(
    port: int, token: str | None, items: int, n: int, worker: int, mix: str
) -> None:
    statuses: dict[int, int] = {}
    kinds = {"receipt": 0, "transfer": 0, "shipment": 0, "reservation": 0, "order": 0}
    moves = 0
    one = {"orders": order_step, "lots": lot_step}.get(mix, step)
    clients = int(os.environ.get("CLIENTS", "1"))

    async def loop(c: int) -> None:
        nonlocal moves
        http = Conn(port, token)
        for i in range(c, n, clients):
            s, m = await one(items, http, worker, i, kinds)
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


def seed_lots(port: int, token: str | None, items: int) -> None:
    """MIX `lots`: lot-tracked items with 1,000 in lot L0 at WH."""
    import httpx

    h = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=60, headers=h) as api:
        for code, kind in (("WH", "warehouse"), ("STORE", "store")):
            api.post(
                "/locations", json={"code": code, "name": code, "kind": kind}
            ).raise_for_status()
        for i in range(items):
            sku = f"SKU-{i:05d}"
            item = {"sku": sku, "name": f"Item {i}", "lot_tracked": True}
            api.post("/items", json=item).raise_for_status()
            receipt = {
                "sku": sku,
                "location": "WH",
                "quantity": 1000,
                "lot": "L0",
                "expires_on": lot_expiry(0),
            }
            api.post("/stock/receipts", json=receipt).raise_for_status()


def seed_orders(port: int, token: str | None, items: int) -> None:
    """As `benchmarks.orders._seed`."""
    import httpx

    h = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=60, headers=h) as api:
        api.post("/locations", json={"code": "WH", "name": "Warehouse"}).raise_for_status()
        for s in range(SUPPLIERS):
            api.post("/suppliers", json={"code": f"SUP-{s}", "name": f"Supplier {s}"})
        for i in range(items):
            sku = f"SKU-{i:05d}"
            pulled = i < items * PULLED_SHARE
            policy = "buy_to_order" if pulled else "reorder_point"
            api.post(
                "/items", json={"sku": sku, "name": f"Item {i}", "policy": policy}
            ).raise_for_status()
            if pulled:
                terms = {"sku": sku, "price": 5, "lead_time_days": 3 + i % 5, "pack_size": 6}
                api.post(f"/suppliers/SUP-{i % SUPPLIERS}/items", json=terms).raise_for_status()
            else:
                receipt = {"sku": sku, "location": "WH", "quantity": 1_000_000}
                api.post("/stock/receipts", json=receipt).raise_for_status()


# ---------------------------------------------------------------- server (this process)
def proc_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except FileNotFoundError:
        return 0.0


def _lock_figures(lock: dict[str, float], before: dict[str, float], per: int) -> dict[str, float]:
    """SQLite's write lock per document: milliseconds BEGIN IMMEDIATE waited, held, and the
    holding thread's CPU while it held it."""
    if lock["n"] == before["n"]:
        return {}
    return {
        "lock_wait_ms": round(1000 * (lock["wait"] - before["wait"]) / per, 2),
        "lock_held_ms": round(1000 * (lock["held"] - before["held"]) / per, 2),
        "lock_cpu_ms": round(1000 * (lock["cpu"] - before["cpu"]) / per, 2),
        "locks": round((lock["n"] - before["n"]) / per, 2),
    }


def server_main(items: int, n: int, rounds: int, mix: str) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    import leanstock
    from leanstock.benchmarks import _http

    counts = {"stmts": 0, "tx": 0}
    by_sql: dict[str, int] = {}
    uncached: dict[str, int] = {}  # compiled anew (SQLAlchemy's statement cache missed)
    backends: set[int] = set()

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        counts["stmts"] += 1
        key = " ".join(statement.split())[:90]
        by_sql[key] = by_sql.get(key, 0) + 1
        hit = getattr(context, "cache_hit", None)
        if hit is not None and "CACHE_HIT" not in str(hit):
            uncached[key] = uncached.get(key, 0) + 1

    # SQLite's write lock: how long BEGIN IMMEDIATE waited for it, and how long it was held
    # (from BEGIN IMMEDIATE's return to the end of the commit or rollback) in seconds, in all
    # and of the holding thread's CPU.
    lock = {"wait": 0.0, "held": 0.0, "cpu": 0.0, "n": 0}

    @event.listens_for(Engine, "after_cursor_execute")
    def _began(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement == "BEGIN IMMEDIATE":
            now = time.perf_counter()
            lock["wait"] += now - conn.info.pop("_asked", now)
            held[id(conn.connection)] = now  # the pool's proxy, as do_commit gets it
            held_cpu[id(conn.connection)] = time.thread_time()

    @event.listens_for(Engine, "before_cursor_execute")
    def _ask(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement == "BEGIN IMMEDIATE":
            conn.info["_asked"] = time.perf_counter()

    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    def _released(dbapi_conn) -> None:  # type: ignore[no-untyped-def]
        began = held.pop(id(dbapi_conn), None)
        if began is not None:
            lock["held"] += time.perf_counter() - began
            lock["cpu"] += time.thread_time() - held_cpu.pop(id(dbapi_conn))
            lock["n"] += 1

    held: dict[int, float] = {}
    held_cpu: dict[int, float] = {}
    plain_commit = SQLiteDialect_pysqlite.do_commit
    plain_rollback = SQLiteDialect_pysqlite.do_rollback

    def _do_commit(self, dbapi_conn):  # type: ignore[no-untyped-def]
        plain_commit(self, dbapi_conn)
        _released(dbapi_conn)

    def _do_rollback(self, dbapi_conn):  # type: ignore[no-untyped-def]
        plain_rollback(self, dbapi_conn)
        _released(dbapi_conn)

    SQLiteDialect_pysqlite.do_commit = _do_commit  # type: ignore[method-assign]
    SQLiteDialect_pysqlite.do_rollback = _do_rollback  # type: ignore[method-assign]

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

    with _http.fresh_database(os.environ.get("LEANSTOCK_BENCH_DATABASE", "postgres")) as got:
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
        stop_publisher = None
        if os.environ.get("PUBLISHER"):
            # As `leanstock serve` runs it (in the server's process when it has one worker).
            from leanstock.adapters.db.engine import make_engine
            from leanstock.entrypoints.cli.worker import start_publisher

            stop_publisher = start_publisher(
                make_engine(url), config.get_settings().publisher_interval
            )
        while not server.started:
            time.sleep(0.05)
        {"orders": seed_orders, "lots": seed_lots}.get(mix, seed)(port, token, items)
        results = []
        spy = None

        def start_spy() -> subprocess.Popen[bytes] | None:
            if not os.environ.get("PYSPY_OUT"):
                return None
            # Samples of the rounds only (not the seed): py-spy attached to this process.
            started = subprocess.Popen(
                [
                    *("py-spy", "record", "--pid", str(os.getpid()), "--gil", "--nonblocking"),
                    *("-r", "200", "-f", "raw", "-o", os.environ["PYSPY_OUT"]),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1)
            return started

        for r in range(rounds):
            if r == min(1, rounds - 1):  # the first round warms up (FastAPI builds its routes)
                spy = start_spy()
            lk0 = dict(lock)
            st0 = counts["stmts"]
            tx0 = counts["tx"]
            by_sql.clear()
            uncached.clear()
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
                    mix,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            cpu = time.process_time() - cpu0
            pg = sum(proc_cpu(p) - pg0.get(p, 0.0) for p in backends)
            c = json.loads(out.stdout)
            if mix == "orders":
                per = max(c["kinds"]["order"], 1)
                results.append(
                    {
                        "cpu_ms_per_order": round(1000 * cpu / per, 2),
                        "pg_ms_per_order": round(1000 * pg / per, 2),
                        "stmts_per_order": round((counts["stmts"] - st0) / per, 2),
                        "tx_per_order": round((counts["tx"] - tx0) / per, 2),
                        "orders": c["kinds"]["order"],
                        "lines": {
                            k: v
                            for k, v in c["kinds"].items()
                            if k not in {"receipt", "transfer", "shipment", "reservation", "order"}
                        },
                        "statuses": c["statuses"],
                        "wall_ms_per_order": round(1000 * c["wall"] / per, 1),
                        **_lock_figures(lock, lk0, per),
                    }
                )
                continue
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
                    **_lock_figures(lock, lk0, n),
                }
            )
        if spy is not None:
            import signal

            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        top = sorted(by_sql.items(), key=lambda kv: -kv[1])[:25]
        if stop_publisher is not None:
            stop_publisher.set()
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
            print(f"{v / n:6.2f} {k}")  # per document, or per order sent
        for k, v in sorted(uncached.items(), key=lambda kv: -kv[1]):
            print(f"{v / n:6.2f} compiled anew: {k}")


if __name__ == "__main__":
    if sys.argv[1] == "client":
        _, _, port, token, items, n, worker, mix = sys.argv
        asyncio.run(client_main(int(port), token or None, int(items), int(n), int(worker), mix))
    else:
        server_main(
            int(sys.argv[1]),
            int(sys.argv[2]),
            int(sys.argv[3]),
            sys.argv[4] if len(sys.argv) > 4 else "ledger",
        )
