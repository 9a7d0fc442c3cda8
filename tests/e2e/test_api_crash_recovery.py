"""A server killed in the middle of an idempotent request: the retry learns what happened.

Each test runs a real `leanstock serve` process (`live_server.py`) with the test hooks on
(`entrypoints/api/test_hooks.py`), makes it die at the named moment, starts it again and
sends the same request with the same `Idempotency-Key`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from live_server import LiveServer

from leanstock.entrypoints.api import test_hooks
from leanstock.entrypoints.api.test_hooks import CRASHED

API = "/api/v1"
RECEIPT = {"sku": "CUP", "location": "WH", "quantity": "5", "reference": "ASN-1"}


@pytest.fixture
def server(db_url: str, owner_token: str, tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(db_url, tmp_path).start()
    try:
        with client(live, owner_token) as api:
            assert api.post("/locations", json={"code": "WH", "name": "Warehouse"}).is_success
            assert api.post("/items", json={"sku": "CUP", "name": "Paper cup"}).is_success
        yield live
    finally:
        live.stop()


def client(live: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=live.base, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def on_hand(api: httpx.Client) -> str:
    rows: list[dict[str, Any]] = api.get("/stock", params={"sku": "CUP"}).json()["items"]
    return str(rows[0]["on_hand"]) if rows else "0"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("moment", "replayed"), [("crash-after-commit", True), ("crash-before-commit", False)]
)
def test_a_retry_after_the_server_died_mid_request_receives_exactly_once(
    server: LiveServer, owner_token: str, moment: str, replayed: bool
) -> None:
    key = {"Idempotency-Key": f"receipt-{moment}"}
    with client(server, owner_token) as api, pytest.raises(httpx.TransportError):
        api.post("/stock/receipts", json=RECEIPT, headers={**key, "Leanstock-Test-Hook": moment})
    assert server.wait() == CRASHED
    server.start()
    with client(server, owner_token) as api:
        retry = api.post("/stock/receipts", json=RECEIPT, headers=key)
        assert retry.status_code == 201, retry.text
        assert (retry.headers.get("Idempotent-Replayed") == "true") is replayed
        assert [m["quantity"] for m in retry.json()["moves"]] == ["5"]
        assert on_hand(api) == "5"
        again = api.post("/stock/receipts", json=RECEIPT, headers=key)
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == retry.json()
        assert on_hand(api) == "5"


@pytest.mark.slow
def test_on_sigterm_the_server_finishes_the_request_in_flight_then_exits(
    server: LiveServer, owner_token: str
) -> None:
    answers: list[httpx.Response] = []

    def slow_receipt() -> None:
        with client(server, owner_token) as api:
            answers.append(
                api.post(
                    "/stock/receipts",
                    json=RECEIPT,
                    headers={
                        "Idempotency-Key": "slow-1",
                        "Leanstock-Test-Hook": "sleep-before-commit:4",
                    },
                )
            )

    in_flight = threading.Thread(target=slow_receipt)
    in_flight.start()
    server.wait_for_log("leanstock test hook: sleeping")
    server.terminate()
    refused = False
    while in_flight.is_alive() and not refused:
        try:
            httpx.get(f"{server.base}/health", timeout=1)
        except httpx.TransportError:
            refused = True
    in_flight.join()
    assert refused, "the server kept accepting connections after SIGTERM"
    assert [a.status_code for a in answers] == [201], [a.text for a in answers]
    # uvicorn ends by raising the signal again once it has shut down cleanly.
    assert server.wait() in (0, -signal.SIGTERM), server.log()
    assert "Traceback" not in server.log()
    server.start()
    with client(server, owner_token) as api:
        assert on_hand(api) == "5"
        again = api.post("/stock/receipts", json=RECEIPT, headers={"Idempotency-Key": "slow-1"})
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == answers[0].json()


class _Died(Exception):
    """Stands in, in-process, for the server dying at a hook's moment."""


def _die(hook: test_hooks.Hook | None) -> None:
    raise _Died


@pytest.mark.parametrize(("moment", "replayed"), [("after_commit", True), ("before_commit", False)])
def test_an_idempotent_request_that_failed_around_its_commit_is_kept_whole_or_not_at_all(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, moment: str, replayed: bool
) -> None:
    """The quick, in-process version of the crash test above: the key and the work commit
    together, so the retry replays (failure after the commit) or runs afresh (before)."""
    assert client.post(f"{API}/locations", json={"code": "WH", "name": "Warehouse"}).is_success
    assert client.post(f"{API}/items", json={"sku": "CUP", "name": "Paper cup"}).is_success
    key = {"Idempotency-Key": f"receipt-{moment}"}
    with monkeypatch.context() as patched:
        patched.setattr(test_hooks, moment, _die)
        lost = client.post(f"{API}/stock/receipts", json=RECEIPT, headers=key)
    assert lost.status_code == 500
    retry = client.post(f"{API}/stock/receipts", json=RECEIPT, headers=key)
    assert retry.status_code == 201, retry.text
    assert (retry.headers.get("Idempotent-Replayed") == "true") is replayed
    rows = client.get(f"{API}/stock", params={"sku": "CUP"}).json()["items"]
    assert [str(r["on_hand"]) for r in rows] == ["5"]
