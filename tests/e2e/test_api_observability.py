"""What a running server tells the people who run it: a JSON log line per request carrying the
request id (the same id the response and the audit row carry), and Prometheus metrics at
/metrics, open to whom the settings say. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from leanstock.config import Settings
from leanstock.entrypoints import logs
from leanstock.entrypoints.api.app import create_app

API = "/api/v1"
LOOPBACK = ("127.0.0.1", 50000)


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Logs configured as the server configures them; yields a reader of the records so far."""
    logs.configure(Settings(log_format="json", log_level="info"))

    def records() -> list[dict[str, Any]]:
        err = capsys.readouterr().err
        return [json.loads(line) for line in err.splitlines() if line]

    try:
        yield records
    finally:
        logs.unconfigure()


def api(
    engine: Engine, token: str, client: tuple[str, int] = LOOPBACK, **settings: Any
) -> TestClient:
    return TestClient(
        create_app(Settings(**settings), engine=engine),
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {token}"},
        client=client,
    )


def test_each_request_is_one_json_log_line_with_its_request_id(
    engine: Engine, owner_token: str, json_logs: Any
) -> None:
    with api(engine, owner_token) as client:
        made = client.post(
            f"{API}/locations",
            json={"code": "WH", "name": "Warehouse"},
            headers={"X-Request-ID": "order-42.retry-1"},
        )
        missing = client.get(f"{API}/items/NOPE", headers={"X-Request-ID": "has spaces"})
        audit = client.get(f"{API}/audit", params={"request_id": "order-42.retry-1"}).json()
    assert made.status_code == 201
    assert made.headers["X-Request-ID"] == "order-42.retry-1"
    assert [row["request_id"] for row in audit["items"]] == ["order-42.retry-1"]
    generated = missing.headers["X-Request-ID"]
    assert generated != "has spaces"
    assert len(generated) == 32

    lines = [r for r in json_logs() if r["logger"] == "leanstock.access"]
    first, second = lines[0], lines[1]
    assert first["request_id"] == "order-42.retry-1"
    assert first["message"] == "POST /api/v1/locations 201"
    assert first["method"] == "POST"
    assert first["route"] == "/api/v1/locations"
    assert first["status"] == 201
    assert first["actor"] == "owner@example.com"
    assert first["duration_ms"] >= 0
    assert first["level"] == "INFO"
    assert first["time"].endswith("Z")
    assert second["request_id"] == generated
    assert second["route"] == "/api/v1/items/{sku}"
    assert second["path"] == "/api/v1/items/NOPE"
    assert second["status"] == 404


def test_an_unhandled_error_is_logged_as_json_with_its_request_id_and_traceback(
    engine: Engine, owner_token: str, json_logs: Any
) -> None:
    client = api(engine, owner_token)

    @client.app.get(f"{API}/boom")  # type: ignore[attr-defined,untyped-decorator]
    def boom() -> None:
        raise RuntimeError("the bug")

    with client:
        answer = client.get(f"{API}/boom", headers={"X-Request-ID": "bug-1"})
    assert answer.status_code == 500
    records = [r for r in json_logs() if r["request_id"] == "bug-1"]
    error = next(r for r in records if r["logger"] == "leanstock.api")
    assert error["level"] == "ERROR"
    assert "RuntimeError: the bug" in error["exception"]
    access = next(r for r in records if r["logger"] == "leanstock.access")
    assert (access["route"], access["status"]) == (f"{API}/boom", 500)


def test_text_logs_carry_the_request_id_too(
    engine: Engine, owner_token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure(Settings(log_format="text"))
    try:
        with api(engine, owner_token) as client:
            client.get(f"{API}/items", headers={"X-Request-ID": "plain-1"})
    finally:
        logs.unconfigure()
    line = next(x for x in capsys.readouterr().err.splitlines() if "[plain-1]" in x)
    assert "INFO leanstock.access [plain-1] GET /api/v1/items 200" in line


def metrics(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def test_metrics_count_requests_by_route_template_and_read_the_ledger_and_outbox(
    engine: Engine, owner_token: str
) -> None:
    with api(engine, owner_token) as client:
        before = metrics(client)
        assert client.post(f"{API}/locations", json={"code": "WH", "name": "W"}).status_code == 201
        item = {"sku": "CUP", "name": "Paper cup"}
        assert client.post(f"{API}/items", json=item).status_code == 201
        receipt = {"sku": "CUP", "location": "WH", "quantity": "10"}
        for _ in range(3):
            assert client.post(f"{API}/stock/receipts", json=receipt).status_code == 201
        for sku in ("CUP", "NOPE"):
            client.get(f"{API}/items/{sku}")
        after = metrics(client)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    requests = "leanstock_http_requests_total"
    assert delta(requests, method="POST", route=f"{API}/stock/receipts", status="201") == 3
    assert delta(requests, method="GET", route=f"{API}/items/{{sku}}", status="200") == 1
    assert delta(requests, method="GET", route=f"{API}/items/{{sku}}", status="404") == 1
    assert not any("NOPE" in str(labels) for _, labels in after)
    latency = "leanstock_http_request_duration_seconds_count"
    assert delta(latency, method="POST", route=f"{API}/stock/receipts") == 3
    assert delta("leanstock_ledger_operations_total", kind="receipt") == 3
    assert ("leanstock_outbox_backlog", ()) in after
    assert ("leanstock_outbox_oldest_age_seconds", ()) in after
    assert after[("leanstock_db_pool_checked_out", ())] >= 0
    assert ("leanstock_db_pool_size", ()) in after


def test_metrics_answer_only_whom_the_settings_allow(engine: Engine, owner_token: str) -> None:
    remote = ("203.0.113.9", 40000)
    with api(engine, owner_token, client=remote) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 403
        assert "LEANSTOCK_METRICS_TOKEN" in refused.json()["detail"]
    with api(engine, owner_token, client=LOOPBACK) as client:
        assert client.get("/metrics").status_code == 200
    with api(engine, owner_token, client=remote, metrics="open") as client:
        assert client.get("/metrics").status_code == 200
    with api(engine, "wrong", client=remote, metrics_token="s3cret-scrape") as client:
        assert client.get("/metrics").status_code == 403
        bearer = {"Authorization": "Bearer s3cret-scrape"}
        assert client.get("/metrics", headers=bearer).status_code == 200
    with api(engine, owner_token, client=LOOPBACK, metrics="off") as client:
        assert client.get("/metrics").status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_served_by_two_workers_the_metrics_sum_both_and_the_log_is_json(
    db_url: str, engine: Engine, owner_token: str, tmp_path: Path
) -> None:
    port = _free_port()
    command = ["serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(
        [sys.executable, "-m", "leanstock.entrypoints.cli", *command],
        cwd=tmp_path,
        env={**os.environ, "LEANSTOCK_DATABASE_URL": db_url, "LEANSTOCK_PUBLISHER": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}{API}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.5)
        auth = {"Authorization": f"Bearer {owner_token}"}
        for n in range(20):  # a new connection each: the kernel spreads them over the workers
            answer = httpx.get(f"{base}{API}/items", headers={**auth, "X-Request-ID": f"w-{n}"})
            assert answer.status_code == 200
        scraped = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(httpx.get(f"{base}/metrics").text)
            for s in family.samples
        }
        key = (
            "leanstock_http_requests_total",
            (("method", "GET"), ("route", f"{API}/items"), ("status", "200")),
        )
        assert scraped[key] == 20
    finally:
        server.terminate()
        _, err = server.communicate(timeout=60)
    access = [json.loads(line) for line in err.splitlines() if '"leanstock.access"' in line]
    assert {r["request_id"] for r in access} >= {f"w-{n}" for n in range(20)}
    # Both workers answered some (all 20 on one: a chance of 1 in 2**19), and were summed.
    assert len({r["pid"] for r in access if r["request_id"].startswith("w-")}) == 2
