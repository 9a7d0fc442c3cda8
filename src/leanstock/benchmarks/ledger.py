"""`leanstock bench ledger`: concurrent clients posting moves and reservations over HTTP.

Each client loops over a mix of documents on random items of a 1,000-item catalog: supplier
deliveries (1-6 lines), store refills (1-4), customer shipments (1-3), and reservations with
their release; all against a real uvicorn server on a fresh SQLite file or PostgreSQL schema.
Every line of a document is one move (more when a line is picked from several lots).
Figures: moves and requests per second, latency percentiles, HTTP statuses (409s are
refusals for lack of stock, which the ledger must give).

With `--batch` each request is `POST /stock/operations:batch` with 100 documents of the same
mix (deliveries, refills, shipments); `documents_refused` counts those the ledger refused.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
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

ITEMS = 1000
LOCATIONS = ("WH", "STORE")


def _seed(base: str, token: str, items: int) -> None:
    with httpx.Client(base_url=f"{base}/api/v1", timeout=30, headers=auth(token)) as api:
        for code, kind in (("WH", "warehouse"), ("STORE", "store")):
            api.post(
                "/locations", json={"code": code, "name": code, "kind": kind}
            ).raise_for_status()
        for i in range(items):
            api.post("/items", json={"sku": f"SKU-{i:05d}", "name": f"Item {i}"}).raise_for_status()
            receipt = {"sku": f"SKU-{i:05d}", "location": "WH", "quantity": 1000}
            api.post("/stock/receipts", json=receipt).raise_for_status()


def _stepper(items: int) -> Step:
    return functools.partial(_step, items)


def _lines(rng: random.Random, items: int, most: int, largest: int) -> list[dict[str, Any]]:
    skus = rng.sample(range(items), rng.randint(1, most))
    return [{"sku": f"SKU-{i:05d}", "quantity": rng.randint(1, largest)} for i in sorted(skus)]


async def _step(items: int, http: Connection, worker: int, n: int) -> tuple[int, int]:
    """One request of the mix: a delivery (1-6 lines), a store refill (1-4), a customer
    shipment (1-3), or a reservation and its release."""
    rng = random.Random(worker * 1_000_003 + n)
    roll = rng.random()
    if roll < 0.25:
        body: dict[str, Any] = {
            "location": rng.choice(LOCATIONS),
            "lines": _lines(rng, items, 6, 20),
        }
        status, answer = await http.request("POST", "/api/v1/stock/receipts", body)
    elif roll < 0.5:
        source, target = rng.sample(LOCATIONS, 2)
        body = {"source": source, "target": target, "lines": _lines(rng, items, 4, 5)}
        status, answer = await http.request("POST", "/api/v1/stock/transfers", body)
    elif roll < 0.8:
        body = {"location": rng.choice(LOCATIONS), "lines": _lines(rng, items, 3, 5)}
        status, answer = await http.request("POST", "/api/v1/stock/shipments", body)
    else:
        sku = f"SKU-{rng.randrange(items):05d}"
        body = {"sku": sku, "location": "WH", "quantity": 1, "reference": f"bench-{worker}-{n}"}
        status, answer = await http.request("POST", "/api/v1/reservations", body)
        if status == 201:
            path = f"/api/v1/reservations/{answer['id']}/release"
            status, _ = await http.request("POST", path, {})
        return status, 0
    return status, len(answer["moves"]) if status == 201 else 0


BATCH = 100


def _document(rng: random.Random, items: int) -> dict[str, Any]:
    """One document of the mix without reservations: a delivery, a refill or a shipment."""
    roll = rng.random()
    if roll < 0.3:
        lines = _lines(rng, items, 6, 20)
        return {"kind": "receipt", "location": rng.choice(LOCATIONS), "lines": lines}
    if roll < 0.6:
        source, target = rng.sample(LOCATIONS, 2)
        lines = _lines(rng, items, 4, 5)
        return {"kind": "transfer", "source": source, "target": target, "lines": lines}
    lines = _lines(rng, items, 3, 5)
    return {"kind": "shipment", "location": rng.choice(LOCATIONS), "lines": lines}


async def _batch_step(
    items: int, refused: list[int], http: Connection, worker: int, n: int
) -> tuple[int, int]:
    """One batch of BATCH documents; the moves of those posted."""
    rng = random.Random(worker * 1_000_003 + n)
    body = {"documents": [_document(rng, items) for _ in range(BATCH)]}
    status, answer = await http.request("POST", "/api/v1/stock/operations:batch", body)
    if status != 200:
        return status, 0
    refused[0] += answer["refused"]
    return status, sum(
        len(r["operation"]["moves"]) for r in answer["results"] if r["status"] == 201
    )


def run(options: BenchOptions) -> dict[str, object]:
    clients = int(os.environ.get("LEANSTOCK_BENCH_CLIENTS", "4" if options.quick else "8"))
    seconds = 5.0 if options.quick else 30.0
    items = 100 if options.quick else ITEMS
    with fresh_database(options.database) as (kind, url, token):
        workers = 1 if kind == "sqlite" else int(os.environ.get("LEANSTOCK_BENCH_WORKERS", "2"))
        with server(url, workers) as base:
            _seed(base, token, items)
            refused = [0]
            step = (
                functools.partial(_batch_step, items, refused) if options.batch else _stepper(items)
            )
            load = asyncio.run(closed_loop(base, token, clients, seconds, step))
    batched = {"batch": BATCH, "documents_refused": refused[0]} if options.batch else {}
    return {
        "benchmark": "ledger",
        "database": kind,
        "clients": clients,
        "server_workers": workers,
        "items": items,
        **load.figures(),
        **batched,
        "quick": options.quick,
    }
