"""Settings on the web app, over HTTP (both databases): only owners reach them; users are added,
changed, disabled and given a new password; an API token's secret is shown once and works
until revoked; locations are listed and added. And every form that changes something carries
an idempotency key."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from test_web import browser, csrf, db_url, email, form_key, nav, shop

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.services import accounts, catalog, transfers

__all__ = ["browser", "db_url", "shop"]  # the business and the signed-in clients of test_web

SETTINGS = ["/settings/users", "/settings/tokens", "/settings/locations"]


@pytest.mark.parametrize("role", ["manager", "buyer", "warehouse", "viewer", "supplier"])
def test_only_owners_reach_settings(
    role: str, shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser(role)
    landing = web.get("/purchase-orders")
    assert "/settings/users" not in nav(landing)
    for path in [*SETTINGS, "/settings", "/settings/users/1"]:
        response = web.get(path, follow_redirects=False)
        assert response.status_code == 403, path
        assert "<h1>Not allowed</h1>" in response.text
    token = csrf(landing)
    for path in ("/settings/users", "/settings/tokens", "/settings/users/1/active"):
        assert web.post(path, data={"csrf_token": token}).status_code == 403
    owner = browser("owner")
    assert nav(owner.get("/items"))[-1] == "/settings/users"
    for path in SETTINGS:
        assert owner.get(path).status_code == 200, path


def test_an_owner_adds_a_user_changes_the_role_and_disables_them(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    owner = browser("owner")
    page = owner.get("/settings/users")
    assert email("viewer") in page.text
    data = {
        "csrf_token": csrf(page),
        "idempotency_key": form_key(page),
        "email": "lena@example.com",
        "display_name": "Lena",
        "role": "warehouse",
        "password": "short",
        "locations": "WH",
    }
    weak = owner.post("/settings/users", data=data)
    assert weak.status_code == 422
    assert 'id="password-error">' in weak.text
    assert "12 characters" in weak.text
    assert 'value="lena@example.com"' in weak.text
    assert "short" not in weak.text.split('id="password"', 1)[1].split(">", 1)[0]
    data.update(password="a long enough pass phrase", idempotency_key=form_key(weak))
    added = owner.post("/settings/users", data=data, follow_redirects=False)
    again = owner.post("/settings/users", data=data, follow_redirects=False)
    assert added.status_code == again.status_code == 303
    assert added.headers["location"] == again.headers["location"]
    user = accounts.get_user(
        UnitOfWork(engine), accounts.user_id_of(UnitOfWork(engine), "lena@example.com")
    )
    assert (user.role.value, user.locations) == ("warehouse", frozenset({"WH"}))
    path = f"/settings/users/{user.id}"
    page = owner.get(added.headers["location"])
    assert "User added." in page.text

    lena = browser(None)
    signed = lena.post(
        "/login", data={"email": "lena@example.com", "password": "a long enough pass phrase"}
    )
    assert signed.status_code == 200
    assert "Lena" in signed.text

    # A manager cannot be limited to locations: said beside the field.
    token = csrf(page)
    wrong = owner.post(
        path,
        data={"csrf_token": token, "display_name": "Lena", "role": "manager", "locations": "WH"},
    )
    assert wrong.status_code == 422
    assert 'id="locations-error">Only warehouse users are limited to locations.' in wrong.text
    changed = owner.post(
        path, data={"csrf_token": token, "display_name": "Lena K", "role": "manager"}
    )
    assert "User changed." in changed.text
    user = accounts.get_user(UnitOfWork(engine), user.id)
    assert (user.role.value, user.display_name, user.locations) == ("manager", "Lena K", None)
    # The role change ended her session.
    assert lena.get("/", follow_redirects=False).status_code == 303

    disabled = owner.post(f"{path}/active", data={"csrf_token": token, "active": "0"})
    assert "User disabled." in disabled.text
    refused = browser(None).post(
        "/login", data={"email": "lena@example.com", "password": "a long enough pass phrase"}
    )
    assert refused.status_code == 401
    enabled = owner.post(f"{path}/active", data={"csrf_token": token, "active": "1"})
    assert "User enabled." in enabled.text
    reset = owner.post(
        f"{path}/password", data={"csrf_token": token, "password": "another long phrase"}
    )
    assert "User given a new password." in reset.text


def test_the_last_owner_cannot_demote_or_disable_themselves(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    owner = browser("owner")
    me = accounts.user_id_of(UnitOfWork(engine), email("owner"))
    page = owner.get(f"/settings/users/{me}")
    token = csrf(page)
    demoted = owner.post(
        f"/settings/users/{me}", data={"csrf_token": token, "display_name": "O", "role": "viewer"}
    )
    assert demoted.status_code == 409
    assert 'id="role-error">' in demoted.text
    assert "last active owner" in demoted.text
    disabled = owner.post(f"/settings/users/{me}/active", data={"csrf_token": token, "active": "0"})
    assert disabled.status_code == 409
    assert "last active owner" in disabled.text
    assert accounts.get_user(UnitOfWork(engine), me).active


def test_a_token_secret_is_shown_once_works_and_stops_when_revoked(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    owner = browser("owner")
    page = owner.get("/settings/tokens")
    assert "No API token yet." in page.text
    token = csrf(page)
    wrong = owner.post(
        "/settings/tokens",
        data={"csrf_token": token, "name": "till", "scope": "read", "expires_in_days": "400"},
    )
    assert wrong.status_code == 422
    assert 'id="expires_in_days-error">A token lives 1 to 366 whole days' in wrong.text
    assert 'value="till"' in wrong.text
    made = owner.post(
        "/settings/tokens",
        data={"csrf_token": token, "name": "till", "scope": "read", "expires_in_days": "30"},
    )
    assert made.status_code == 201
    assert made.headers["cache-control"] == "no-store"
    secret = re.search(r'id="secret" readonly value="([^"]+)"', made.text)
    assert secret
    bearer = {"Authorization": f"Bearer {secret.group(1)}"}
    api = browser(None)
    assert api.get("/api/v1/items", headers=bearer).status_code == 200
    listed = owner.get("/settings/tokens")
    assert secret.group(1) not in listed.text
    assert "till" in listed.text
    assert ">active<" in listed.text
    token_id = re.search(r'action="/settings/tokens/(\d+)/revoke"', listed.text)
    assert token_id
    revoked = owner.post(
        f"/settings/tokens/{token_id.group(1)}/revoke", data={"csrf_token": csrf(listed)}
    )
    assert "Token revoked." in revoked.text
    assert ">revoked<" in revoked.text
    assert api.get("/api/v1/items", headers=bearer).status_code == 401


def test_an_owner_adds_a_location_and_a_duplicate_is_refused_beside_its_code(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    owner = browser("owner")
    page = owner.get("/settings/locations")
    assert ">WH<" in page.text
    assert ">STORE<" in page.text
    token = csrf(page)
    added = owner.post(
        "/settings/locations",
        data={
            "csrf_token": token,
            "code": "KITCHEN",
            "name": "Kitchen",
            "kind": "work_in_progress",
        },
    )
    assert "Location KITCHEN added." in added.text
    assert catalog.get_location(UnitOfWork(engine), "KITCHEN").name == "Kitchen"
    twice = owner.post(
        "/settings/locations",
        data={"csrf_token": token, "code": "WH", "name": "Again", "kind": "warehouse"},
    )
    assert twice.status_code == 409
    assert 'id="code-error">' in twice.text
    assert "already exists" in twice.text
    bad = owner.post(
        "/settings/locations",
        data={"csrf_token": token, "code": "A B", "name": "Spaced", "kind": "store"},
    )
    assert bad.status_code == 422
    assert 'id="code-error">' in bad.text
    assert 'value="A B"' in bad.text
    virtual = owner.post(
        "/settings/locations",
        data={"csrf_token": token, "code": "GONE", "name": "Gone", "kind": "scrap"},
    )
    assert virtual.status_code == 422
    assert 'id="kind-error">Choose a kind of location' in virtual.text


def test_every_form_that_changes_something_carries_an_idempotency_key(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    """A double click makes one document: each posting form of every page carries a key,
    but signing in and out (nothing made) and the token form (whose answer, holding the
    secret, must not be kept)."""
    made = transfers.create_transfer_order(UnitOfWork(engine), "MILK", "WH", "STORE", Decimal(1))
    owner = browser("owner")
    me = accounts.user_id_of(UnitOfWork(engine), email("viewer"))
    sales = owner.post(
        "/sales-orders/new",
        data={
            "csrf_token": csrf(owner.get("/")),
            "customer": "C",
            "location": "WH",
            "sku_1": "MILK",
            "qty_1": "1",
        },
        follow_redirects=False,
    ).headers["location"]
    pages = [
        "/stock/move?kind=receive",
        "/stock/count",
        "/sales-orders/new",
        sales,
        f"/purchase-orders/{shop['po']}",
        "/production-orders/new",
        "/transfer-orders/new",
        f"/transfer-orders/{made.number}",
        "/settings/users",
        f"/settings/users/{me}",
        "/settings/locations",
        "/settings/tokens",
    ]
    checked = 0
    for path in pages:
        text = owner.get(path).text
        for found in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", text, re.S):
            action = re.findall(r'action="([^"]+)"', found)[0]
            if action in ("/logout", "/settings/tokens"):
                continue
            assert 'name="idempotency_key"' in found, (path, action)
            checked += 1
    assert checked >= 15
