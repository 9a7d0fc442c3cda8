"""Webhook subscriptions over HTTP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from leanstock.config import get_settings

API = "/api/v1"


def test_a_subscription_to_a_private_address_is_refused_saying_why(client: TestClient) -> None:
    response = client.post(f"{API}/webhooks", json={"url": "http://10.0.0.1/hook", "events": ["*"]})
    assert response.status_code == 422
    assert "private address" in response.json()["detail"]
    assert client.get(f"{API}/webhooks").json() == []


def test_a_subscription_shows_its_secret_once(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEANSTOCK_WEBHOOKS_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    try:
        response = client.post(
            f"{API}/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "events": ["sales_order.shipped"]},
        )
    finally:
        monkeypatch.delenv("LEANSTOCK_WEBHOOKS_ALLOW_PRIVATE")
        get_settings.cache_clear()
    assert response.status_code == 201, response.text
    created = response.json()
    assert len(created["secret"]) >= 32
    listed = client.get(f"{API}/webhooks").json()
    assert [w["id"] for w in listed] == [created["id"]]
    assert "secret" not in listed[0]
    deliveries = client.get(f"{API}/webhooks/{created['id']}/deliveries").json()
    assert deliveries["items"] == []
    assert client.post(f"{API}/webhooks/{created['id']}/replay").json() == {"queued": 0}


def test_an_event_type_that_is_not_one_is_refused(client: TestClient) -> None:
    response = client.post(
        f"{API}/webhooks", json={"url": "https://example.com/hook", "events": ["DROP TABLE"]}
    )
    assert response.status_code == 422
    assert "is not an event type" in response.json()["detail"]
