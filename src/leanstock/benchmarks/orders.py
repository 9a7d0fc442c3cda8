"""`leanstock bench orders`: concurrent clients placing and confirming sales orders over HTTP.

Each client loops: one POST /sales-orders with `confirm: true` and one to three lines, on a
catalog where most items are stocked (the line reserves stock) and some are bought to order
(the line pulls onto its supplier's one open draft purchase order, pegged). All against a real
uvicorn server on a fresh SQLite file or PostgreSQL schema. Figures: confirmed orders per
second, latency percentiles, HTTP statuses, and how lines were served.

Eight closed-loop clients keep a 2-core machine's server and database busy without queueing
requests behind each other (more clients add latency, not throughput);
LEANSTOCK_BENCH_CLIENTS and LEANSTOCK_BENCH_WORKERS change the load and the server.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
from collections import Counter
from typing import Any

import httpx

from leanstock.benchmarks import BenchOptions
from leanstock.benchmarks._http import (
    Connection,
    Step,
    auth,
    closed_loop,
    fresh_database,
    server,
)

ITEMS = 500
SUPPLIERS = 10
PULLED_SHARE = 0.2


def _seed(base: str, token: str, items: int) -> None:
    with httpx.Client(base_url=f"{base}/api/v1", timeout=30, headers=auth(token)) as api:
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


async def _step(
    items: int, served: Counter[str], http: Connection, worker: int, n: int
) -> tuple[int, int]:
    rng = random.Random(worker * 1_000_003 + n)
    skus = rng.sample(range(items), rng.randint(1, 3))
    body: dict[str, Any] = {
        "customer": f"customer-{rng.randrange(1000)}",
        "location": "WH",
        "confirm": True,
        "lines": [{"sku": f"SKU-{i:05d}", "quantity": rng.randint(1, 4)} for i in skus],
    }
    status, answer = await http.request("POST", "/api/v1/sales-orders", body)
    if status == 201:
        for line in answer["lines"]:
            served[line["fulfilment"]] += 1
    return status, 0


def run(options: BenchOptions) -> dict[str, object]:
    clients = int(os.environ.get("LEANSTOCK_BENCH_CLIENTS", "4" if options.quick else "8"))
    seconds = 5.0 if options.quick else 20.0
    items = 100 if options.quick else ITEMS
    served: Counter[str] = Counter()
    with fresh_database(options.database) as (kind, url, token):
        workers = 1 if kind == "sqlite" else int(os.environ.get("LEANSTOCK_BENCH_WORKERS", "2"))
        with server(url, workers) as base:
            _seed(base, token, items)
            step: Step = functools.partial(_step, items, served)
            load = asyncio.run(closed_loop(base, token, clients, seconds, step))
            with httpx.Client(base_url=f"{base}/api/v1", timeout=30, headers=auth(token)) as api:
                drafts = api.get("/purchase-orders", params={"status": "draft"}).json()["total"]
    figures = load.figures()
    confirmed = load.statuses.get(201, 0)
    return {
        "benchmark": "orders",
        "database": kind,
        "clients": clients,
        "server_workers": workers,
        "items": items,
        "orders": confirmed,
        "orders_per_s": round(confirmed / load.wall, 1),
        "p50_ms": figures["p50_ms"],
        "p95_ms": figures["p95_ms"],
        "p99_ms": figures["p99_ms"],
        "wall_s": figures["wall_s"],
        "statuses": figures["statuses"],
        "lines_by_fulfilment": dict(sorted(served.items())),
        "draft_purchase_orders": drafts,
        "quick": options.quick,
    }
