"""Every write route of the OpenAPI document leaves an audit row: the right action on the right
object, by the principal, in the request, with what changed.

The walk below runs one successful request of each write route, in an order that makes each
possible (a plan is approved before it is released). A write route missing from it fails
`test_every_write_route_is_walked`: a new write must say what it records.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from small_business import cafe_with_history
from sqlalchemy import Engine, select

from conftest import DATABASES, OWNER, PASSWORD, Templates, make_token
from edi_documents import acknowledgement, interchange
from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db.engine import make_engine
from leanstock.config import Settings, get_settings
from leanstock.domain.access import Role
from leanstock.entrypoints.api.app import create_app

API = "/api/v1"
WEEKS = 20
Json = dict[str, Any]
# The subject an audit row names, from what the request answered and what went before.
Subject = Callable[[Json, dict[str, Any]], str]


@dataclass(frozen=True)
class Write:
    method: str
    path: str  # a template: `{name}` filled from the values saved by earlier steps
    body: Any
    action: str
    subject: Subject
    save: Callable[[Json], dict[str, Any]] | None = None
    browser: bool = False  # sent with the web session (cookie and CSRF token)
    upload: bytes | None = None  # sent as the multipart file `file` (the body is ignored)


def const(value: str) -> Subject:
    return lambda _answer, _saved: value


def field(template: str) -> Subject:
    return lambda answer, saved: template.format(**{**saved, **answer})


def saved(template: str) -> Subject:
    return lambda _answer, values: template.format(**values)


EDI_INTERCHANGE = interchange(
    [acknowledgement("PO-999999", [(1, "NEW", "1", "20261205")])],
    77,
    sender="S2EDI",
    group_sender="S2EDI",
)

WALK = [
    # Signing in, and what only a web session may do
    Write(
        "POST",
        "/auth/login",
        {"email": OWNER, "password": PASSWORD},
        "login",
        const(f"user:{OWNER}"),
        save=lambda a: {"csrf": a["me"]["csrf_token"]},
        browser=True,
    ),
    Write(
        "POST",
        "/tokens",
        {"name": "audit walk"},
        "token_create",
        field("token:{prefix}"),
        save=lambda a: {"token_id": a["id"]},
        browser=True,
    ),
    Write("POST", "/tokens/{token_id}/revoke", None, "token_revoke", field("token:{prefix}")),
    # Users
    Write(
        "POST",
        "/users",
        {"email": "walk@example.com", "password": PASSWORD, "role": "viewer"},
        "user_create",
        const("user:walk@example.com"),
        save=lambda a: {"user_id": a["id"]},
    ),
    Write(
        "PATCH",
        "/users/{user_id}",
        {"display_name": "Walker"},
        "user_update",
        const("user:walk@example.com"),
    ),
    Write(
        "POST",
        "/users/{user_id}/password",
        {"password": PASSWORD + "!"},
        "password_reset",
        const("user:walk@example.com"),
    ),
    # Catalog and supplier terms
    Write("POST", "/items", {"sku": "NEW", "name": "New"}, "item_create", const("item:NEW")),
    Write("PATCH", "/items/NEW", {"name": "Newer"}, "item_update", const("item:NEW")),
    Write("POST", "/items/NEW/barcodes", {"barcode": "96385074"}, "barcode_add", const("item:NEW")),
    Write("DELETE", "/items/NEW/barcodes/96385074", None, "barcode_remove", const("item:NEW")),
    # Customers
    Write(
        "POST", "/customers", {"code": "C1", "name": "One"}, "customer_create", const("customer:C1")
    ),
    Write("PATCH", "/customers/C1", {"priority": 2}, "customer_update", const("customer:C1")),
    Write(
        "POST", "/customers", {"code": "C2", "name": "Two"}, "customer_create", const("customer:C2")
    ),
    Write("DELETE", "/customers/C2", None, "customer_delete", const("customer:C2")),
    Write(
        "POST",
        "/imports/items",
        None,
        "import",
        const("import:items"),
        upload=b"sku,name\nIMP,Imported\n",
    ),
    Write(
        "POST", "/locations", {"code": "L2", "name": "L2"}, "location_create", const("location:L2")
    ),
    Write("PATCH", "/locations/L2", {"name": "L two"}, "location_update", const("location:L2")),
    Write(
        "POST", "/suppliers", {"code": "S2", "name": "S2"}, "supplier_create", const("supplier:S2")
    ),
    Write("PATCH", "/suppliers/S2", {"name": "S two"}, "supplier_update", const("supplier:S2")),
    Write(
        "POST",
        "/suppliers/S2/items",
        {"sku": "NEW", "price": "1", "lead_time_days": 2},
        "terms_create",
        const("supplier_item:S2/NEW"),
    ),
    Write(
        "PATCH",
        "/suppliers/S2/items/NEW",
        {"price": "2"},
        "terms_update",
        const("supplier_item:S2/NEW"),
    ),
    Write(
        "POST",
        "/boms",
        {"sku": "CAKE", "lines": [{"sku": "NEW", "quantity": 1}]},
        "put_bom",
        const("CAKE"),
    ),
    # Stock operations and reservations
    Write(
        "POST",
        "/stock/receipts",
        {"sku": "NEW", "location": "WH", "quantity": 100},
        "receive",
        field("operation:{id}"),
    ),
    Write(
        "POST",
        "/stock/shipments",
        {"sku": "NEW", "location": "WH", "quantity": 1},
        "ship",
        field("operation:{id}"),
    ),
    Write(
        "POST",
        "/stock/transfers",
        {"sku": "NEW", "source": "WH", "target": "L2", "quantity": 1},
        "transfer",
        field("operation:{id}"),
    ),
    Write(
        "POST",
        "/stock/counts",
        {"sku": "NEW", "location": "WH", "counted": 90},
        "count",
        field("operation:{id}"),
    ),
    Write(
        "POST",
        "/stock/scraps",
        {"sku": "NEW", "location": "WH", "quantity": 1, "reason": "damage"},
        "scrap",
        field("operation:{id}"),
    ),
    # Stocktakes: one counted and posted, one cancelled
    Write(
        "POST",
        "/stocktakes",
        {"location": "WH", "freeze": True, "blind": True},
        "stocktake_start",
        field("stocktake:{number}"),
        save=lambda a: {"st": a["number"]},
    ),
    Write(
        "PUT",
        "/stocktakes/{st}/lines",
        {"lines": [{"sku": "NEW", "counted": 80}]},
        "stocktake_count",
        saved("stocktake:{st}"),
    ),
    Write("POST", "/stocktakes/{st}/post", None, "stocktake_post", saved("stocktake:{st}")),
    Write(
        "POST",
        "/stocktakes",
        {"location": "WH"},
        "stocktake_start",
        field("stocktake:{number}"),
        save=lambda a: {"st2": a["number"]},
    ),
    Write("POST", "/stocktakes/{st2}/cancel", None, "stocktake_cancel", saved("stocktake:{st2}")),
    Write(
        "POST",
        "/stock/operations:batch",
        {"documents": [{"kind": "shipment", "sku": "NEW", "location": "WH", "quantity": 1}]},
        "ship",
        lambda answer, _: f"operation:{answer['results'][0]['operation']['id']}",
    ),
    Write(
        "POST",
        "/reservations",
        {"sku": "NEW", "location": "WH", "quantity": 3, "reference": "R-1"},
        "reserve",
        field("reservation:{id}"),
        save=lambda a: {"reservation": a["id"]},
    ),
    Write(
        "POST",
        "/reservations/{reservation}/release",
        {"quantity": 1},
        "release",
        saved("reservation:{reservation}"),
    ),
    Write(
        "POST",
        "/reservations/{reservation}/consume",
        {},
        "consume",
        saved("reservation:{reservation}"),
    ),
    # Sales orders
    Write(
        "POST",
        "/sales-orders",
        {
            "customer": "C",
            "location": "WH",
            "lines": [{"sku": "NEW", "quantity": 1}],
        },
        "place",
        field("{number}"),
        save=lambda a: {"so": a["number"]},
    ),
    Write(
        "POST", "/sales-orders/{so}/lines/1/change", {"quantity": 3}, "change_line", saved("{so}")
    ),
    Write("POST", "/sales-orders/{so}/confirm", None, "confirm", saved("{so}")),
    Write("POST", "/sales-orders/{so}/shipments", None, "ship", saved("{so}")),
    # Customer returns, quarantine and the expiry sweep
    Write(
        "POST",
        "/sales-orders/{so}/returns",
        {"line": 1, "quantity": 3, "to": "quarantine"},
        "return",
        saved("{so}"),
    ),
    Write(
        "POST",
        "/stock/quarantine/releases",
        {"sku": "NEW", "quantity": 1, "location": "WH"},
        "quarantine_release",
        field("operation:{id}"),
    ),
    Write(
        "POST",
        "/stock/quarantine/returns",
        {"sku": "NEW", "quantity": 1, "supplier": "S2"},
        "supplier_return",
        field("operation:{id}"),
    ),
    Write(
        "POST",
        "/stock/quarantine/scraps",
        {"sku": "NEW", "quantity": 1, "reason": "damage"},
        "scrap",
        field("operation:{id}"),
    ),
    Write("POST", "/stock/expiry", {}, "expire", field("expiry:{day}")),
    Write(
        "POST",
        "/sales-orders",
        {
            "customer": "D",
            "location": "WH",
            "lines": [{"sku": "NEW", "quantity": 1}, {"sku": "BEANS", "quantity": 1}],
        },
        "place",
        field("{number}"),
        save=lambda a: {"so2": a["number"]},
    ),
    Write("POST", "/sales-orders/{so2}/lines/2/cancel", None, "cancel_line", saved("{so2}")),
    Write("POST", "/sales-orders/{so2}/cancel", None, "cancel", saved("{so2}")),
    # Purchase orders
    Write(
        "POST",
        "/purchase-orders",
        {"supplier": "S2", "lines": [{"sku": "NEW", "quantity": 5, "location": "WH"}]},
        "add_lines",
        field("{number}"),
        save=lambda a: {"po": a["number"]},
    ),
    Write("POST", "/purchase-orders/{po}/release", None, "release", saved("{po}")),
    Write(
        "POST",
        "/purchase-orders/{po}/proposals",
        {"lines": [{"line": 1, "quantity": 4}]},
        "propose",
        saved("{po}"),
        save=lambda a: {"proposal": a["id"]},
    ),
    Write(
        "POST",
        "/purchase-orders/{po}/proposals/{proposal}/reject",
        {"reason": "We need all five"},
        "decide_proposal",
        saved("{po}"),
    ),
    Write(
        "POST",
        "/purchase-orders/{po}/proposals",
        {"lines": [{"line": 1, "quantity": 5}]},
        "propose",
        saved("{po}"),
        save=lambda a: {"proposal2": a["id"]},
    ),
    Write(
        "POST",
        "/purchase-orders/{po}/proposals/{proposal2}/accept",
        None,
        "decide_proposal",
        saved("{po}"),
    ),
    Write(
        "POST",
        "/purchase-orders/{po}/acknowledgement",
        {"lines": [{"line": 1, "quantity": 5}]},
        "acknowledge",
        saved("{po}"),
    ),
    Write(
        "POST",
        "/purchase-orders/{po}/ship-notice",
        {"lines": [{"line": 1, "quantity": 3}], "carrier": "DHL", "tracking": "T1"},
        "ship_notice",
        saved("{po}"),
        save=lambda a: {"notice": a["ship_notices"][0]["id"]},
    ),
    Write(
        "POST",
        "/purchase-orders/{po}/ship-notices/{notice}/receipt",
        {},
        "receive",
        saved("{po}"),
    ),
    Write(
        "POST",
        "/purchase-orders/{po}/receipts",
        {"lines": [{"line": 1, "quantity": 1}]},
        "receive",
        saved("{po}"),
    ),
    Write(
        "POST",
        "/purchase-orders/{po}/invoices",
        {"invoice_number": "INV-1", "lines": [{"line": 1, "quantity": 4, "price": "1.1"}]},
        "record_invoice",
        saved("{po}"),
    ),
    Write("POST", "/purchase-orders/{po}/close", None, "close", saved("{po}")),
    # A drop-ship order the supplier delivers to the customer, with tracking
    Write(
        "POST",
        "/items",
        {"sku": "DS", "name": "Drop", "policy": "drop_ship"},
        "item_create",
        const("item:DS"),
    ),
    Write(
        "POST",
        "/suppliers/S2/items",
        {"sku": "DS", "price": "3", "lead_time_days": 2},
        "terms_create",
        const("supplier_item:S2/DS"),
    ),
    Write(
        "POST",
        "/sales-orders",
        {
            "customer": "E",
            "location": "WH",
            "lines": [{"sku": "DS", "quantity": 1}],
            "confirm": True,
        },
        "place_and_confirm",
        field("{number}"),
        save=lambda a: {"dpo": a["lines"][0]["pegs"][0]["supply"].split("/")[0]},
    ),
    Write("POST", "/purchase-orders/{dpo}/release", None, "release", saved("{dpo}")),
    Write(
        "POST",
        "/purchase-orders/{dpo}/drop-ship-deliveries",
        {"lines": [{"line": 1, "quantity": 1}], "carrier": "UPS", "tracking": "1Z"},
        "receive",
        saved("{dpo}"),
    ),
    Write(
        "POST",
        "/purchase-orders",
        {"supplier": "ROAST", "lines": [{"sku": "BEANS", "quantity": 5, "location": "WH"}]},
        "add_lines",
        field("{number}"),
        save=lambda a: {"po2": a["number"]},
    ),
    Write("POST", "/purchase-orders/{po2}/cancel", None, "cancel", saved("{po2}")),
    # Production orders
    Write(
        "POST",
        "/production-orders",
        {"sku": "CAKE", "quantity": 1, "location": "WH"},
        "create",
        field("{number}"),
        save=lambda a: {"mo": a["number"]},
    ),
    Write("POST", "/production-orders/{mo}/release", None, "release", saved("{mo}")),
    Write("POST", "/production-orders/{mo}/start", None, "start", saved("{mo}")),
    Write("POST", "/production-orders/{mo}/produce", {"quantity": 1}, "produce", saved("{mo}")),
    Write("POST", "/production-orders/{mo}/close", None, "close", saved("{mo}")),
    Write(
        "POST",
        "/production-orders",
        {"sku": "CAKE", "quantity": 1, "location": "WH"},
        "create",
        field("{number}"),
        save=lambda a: {"mo2": a["number"]},
    ),
    Write("POST", "/production-orders/{mo2}/cancel", None, "cancel", saved("{mo2}")),
    # Transfer orders
    Write(
        "POST",
        "/transfer-orders",
        {"sku": "NEW", "source": "WH", "target": "L2", "quantity": 1},
        "create",
        field("{number}"),
        save=lambda a: {"to": a["number"]},
    ),
    Write("POST", "/transfer-orders/{to}/ship", None, "ship", saved("{to}")),
    Write("POST", "/transfer-orders/{to}/receive", None, "receive", saved("{to}")),
    Write(
        "POST",
        "/transfer-orders",
        {"sku": "NEW", "source": "WH", "target": "L2", "quantity": 1},
        "create",
        field("{number}"),
        save=lambda a: {"to2": a["number"]},
    ),
    Write("POST", "/transfer-orders/{to2}/cancel", None, "cancel", saved("{to2}")),
    # Forecasts, the event calendar and plans
    Write(
        "POST",
        "/events",
        {"name": "Sale", "starts_on": "2026-12-01", "ends_on": "2026-12-02"},
        "event_create",
        field("event:{id}"),
    ),
    Write(
        "POST",
        "/forecast-runs",
        {"horizon": 8, "freq": "W"},
        "forecast_run",
        field("forecast:{id}"),
    ),
    Write(
        "POST",
        "/plan-runs",
        {},
        "plan_run",
        field("plan:{id}"),
        save=lambda a: {
            "plan": a["id"],
            "line1": a["lines"][0]["id"],
        },
    ),
    Write(
        "PATCH",
        "/plan-runs/{plan}/lines/{line1}",
        {"quantity": 50},
        "plan_line_edit",
        saved("plan:{plan}"),
    ),
    Write(
        "POST", "/plan-runs/{plan}/lines/{line1}/drop", None, "plan_line_drop", saved("plan:{plan}")
    ),
    Write(
        "POST",
        "/plan-runs",
        {},
        "plan_run",
        field("plan:{id}"),
        save=lambda a: {"plan2": a["id"]},
    ),
    Write("POST", "/plan-runs/{plan2}/approve", None, "plan_approve", saved("plan:{plan2}")),
    Write("POST", "/plan-runs/{plan2}/release", None, "plan_release", saved("plan:{plan2}")),
    # Webhook subscriptions
    Write(
        "POST",
        "/webhooks",
        {"url": "http://127.0.0.1:9/hook", "events": ["sales_order.shipped"]},
        "webhook_create",
        field("webhook:{id}"),
        save=lambda a: {"webhook": a["id"]},
    ),
    Write("POST", "/webhooks/{webhook}/replay", None, "webhook_replay", saved("webhook:{webhook}")),
    # The caller's own password, and signing out
    Write(
        "POST",
        "/me/password",
        {"current_password": PASSWORD, "new_password": PASSWORD + " again"},
        "password_change",
        const(f"user:{OWNER}"),
        browser=True,
    ),
    Write("POST", "/auth/logout", None, "logout", const(f"user:{OWNER}"), browser=True),
    # Valuation settings and units
    Write(
        "PUT",
        "/settings/costing",
        {"method": "fifo"},
        "set_costing_method",
        const("settings:costing_method"),
    ),
    Write(
        "PUT",
        "/settings/closed-period",
        {"through": "2000-01-31"},
        "close_period",
        const("settings:closed_through"),
    ),
    Write(
        "PUT",
        "/settings/revaluation",
        {"inline_moves": 200},
        "set_revaluation_inline_moves",
        const("settings:revaluation_inline_moves"),
    ),
    Write("PUT", "/items/NEW/units/box", {"factor": "12"}, "define_unit", const("item:NEW")),
    Write(
        "PUT",
        "/settings/holding-rate",
        {"rate": "0.2"},
        "set_holding_rate",
        const("settings:holding_rate"),
    ),
    # EDI: a partner, an interchange from it (about no order of ours: rejected, and audited),
    # the partner removed.
    Write(
        "PUT",
        "/suppliers/S2/edi",
        {"interchange_id": "S2EDI", "group_id": "S2EDI"},
        "edi_partner",
        const("supplier:S2"),
    ),
    Write(
        "POST",
        "/edi/inbound",
        EDI_INTERCHANGE,
        "edi_receive",
        const("edi:ZZ:S2EDI/000000077"),
    ),
    Write("DELETE", "/suppliers/S2/edi", None, "edi_partner_remove", const("supplier:S2")),
    Write(
        "PUT",
        "/settings/supplier-standard",
        {"otif": 0.9, "lead_time_sd_days": 4},
        "set_supplier_standard",
        const("settings:supplier_standard"),
    ),
]


# POST routes that compute and store nothing (a what-if runs on a copy of the history), with a
# body that runs them: they record no audit row, and `test_the_posts_that_change_nothing_...`
# checks they change nothing the audit trail would see.
CHANGE_NOTHING: dict[tuple[str, str], Any] = {
    ("POST", "/what-if"): {"scenarios": [{"kind": "demand_change", "change": 0.2}]},
}

# Writes whose row says all by its action and object (only a status changed).
NOTHING_TO_SAY = {
    "/auth/login",
    "/auth/logout",
    "/tokens/{token_id}/revoke",
    "/sales-orders/{so}/confirm",
    "/production-orders/{mo}/release",
    "/production-orders/{mo}/start",
    "/transfer-orders/{to}/ship",
    "/transfer-orders/{to2}/cancel",
}


@dataclass
class Walked:
    write: Write
    request_id: str
    status: int
    answer: Json
    subject: str


@pytest.fixture(scope="module", params=DATABASES)
def walk_engine(request: pytest.FixtureRequest, templates: Templates) -> Iterator[Engine]:
    """The database the walk runs on: one per module and database kind, as the walk's tests
    only read what it wrote (the walk takes seconds: months of a café's history, then every
    write route)."""
    with templates.copy(request.param) as url:
        engine = make_engine(url, pool_size=40)
        yield engine
        engine.dispose()


@pytest.fixture(scope="module")
def walked(walk_engine: Engine) -> Iterator[tuple[list[Walked], TestClient]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("LEANSTOCK_WEBHOOKS_ALLOW_PRIVATE", "true")  # the walk's receiver
        get_settings.cache_clear()
        yield from _walk(walk_engine)
    get_settings.cache_clear()


def _walk(engine: Engine) -> Iterator[tuple[list[Walked], TestClient]]:
    cafe_with_history(engine)
    token = make_token(engine, OWNER, Role.OWNER)
    app = create_app(Settings(), engine=engine)
    api = TestClient(
        app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"}
    )
    web = TestClient(app, base_url="https://leanstock.test", raise_server_exceptions=False)
    values: dict[str, Any] = {}
    done: list[Walked] = []
    with api, web:
        for write in WALK:
            request_id = uuid.uuid4().hex
            headers = {"X-Request-ID": request_id}
            if write.browser and "csrf" in values:
                headers["X-CSRF-Token"] = values["csrf"]
            client = web if write.browser else api
            url = f"{API}{write.path.format(**values)}"
            if write.upload is not None:
                files = {"file": ("walk.csv", write.upload)}
                response = client.request(write.method, url, files=files, headers=headers)
            elif isinstance(write.body, str):  # an EDI interchange, sent as it is
                response = client.request(write.method, url, content=write.body, headers=headers)
            else:
                response = client.request(write.method, url, json=write.body, headers=headers)
            json_answer = response.headers.get("content-type", "").startswith("application/json")
            answer = response.json() if response.content and json_answer else {}
            assert response.status_code < 300, (write.method, write.path, response.text)
            if write.save is not None:
                values |= write.save(answer)
            subject = write.subject(answer if isinstance(answer, dict) else {}, values)
            done.append(Walked(write, request_id, response.status_code, answer, subject))
        yield done, api


@pytest.mark.slow
def test_every_write_route_leaves_an_audit_row_of_its_action_on_its_object(
    walked: tuple[list[Walked], TestClient],
) -> None:
    done, api = walked
    wrong = []
    for step in done:
        rows = api.get(f"{API}/audit", params={"request_id": step.request_id}).json()["items"]
        found = [(r["action"], r["subject"]) for r in rows]
        if (step.write.action, step.subject) not in found:
            wrong.append(
                f"{step.write.method} {step.write.path}: wanted "
                f"{(step.write.action, step.subject)}, found {found}"
            )
            continue
        row = next(r for r in rows if r["action"] == step.write.action)
        assert row["actor"] == OWNER
        assert row["request_id"] == step.request_id
        if step.write.path not in NOTHING_TO_SAY and not row["changes"]:
            wrong.append(f"{step.write.method} {step.write.path}: no changes recorded")
    assert not wrong, "\n".join(wrong)


def test_an_import_leaves_the_rows_of_what_its_rows_did_and_its_own(
    walked: tuple[list[Walked], TestClient],
) -> None:
    done, api = walked
    (step,) = [s for s in done if s.write.path == "/imports/items"]
    rows = api.get(f"{API}/audit", params={"request_id": step.request_id}).json()["items"]
    found = {(r["action"], r["subject"], r["actor"]) for r in rows}
    assert found == {("import", "import:items", OWNER), ("item_create", "item:IMP", OWNER)}
    (row,) = [r for r in rows if r["action"] == "import"]
    assert row["changes"]["rows"] == 1
    assert row["changes"]["created"] == 1


def test_updates_record_the_values_before_and_after(
    walked: tuple[list[Walked], TestClient],
) -> None:
    _, api = walked
    (item,) = api.get(
        f"{API}/audit", params={"object": "item:NEW", "action": "item_update"}
    ).json()["items"]
    assert item["changes"] == {"name": ["New", "Newer"]}
    (terms,) = api.get(
        f"{API}/audit", params={"object": "supplier_item:S2/NEW", "action": "terms_update"}
    ).json()["items"]
    assert terms["changes"] == {"price": ["1", "2"]}
    count = api.get(f"{API}/audit", params={"action": "count"}).json()["items"][0]
    assert count["changes"]["on_hand"] == ["98", "90"]
    assert count["changes"]["moves"] == [["NEW", "WH", "adjustment", "8", None]]


def test_every_write_route_is_walked(engine: Engine) -> None:
    app = create_app(Settings(), engine=engine)
    writes = {
        (method.upper(), path.removeprefix(API))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method != "get"
    }
    walked = {(w.method, _template(w.path)) for w in WALK}
    assert writes - walked - set(CHANGE_NOTHING) == set(), "write routes the walk does not cover"
    assert set(CHANGE_NOTHING) <= writes, "routes in CHANGE_NOTHING that no longer exist"


def test_the_posts_that_change_nothing_record_nothing(
    walked: tuple[list[Walked], TestClient],
) -> None:
    _, api = walked
    before = api.get(f"{API}/audit", params={"limit": 1}).json()["total"]
    stock = api.get(f"{API}/stock").json()
    for (method, path), body in CHANGE_NOTHING.items():
        response = api.request(method, f"{API}{path}", json=body)
        assert response.status_code == 200, response.text
    assert api.get(f"{API}/audit", params={"limit": 1}).json()["total"] == before
    assert api.get(f"{API}/stock").json() == stock


def _template(path: str) -> str:
    """The route a walked path stands for (`/items/NEW` → `/items/{sku}`)."""
    known = {
        "/imports/items": "/imports/{kind}",
        "/items/NEW": "/items/{sku}",
        "/items/NEW/barcodes": "/items/{sku}/barcodes",
        "/items/NEW/barcodes/96385074": "/items/{sku}/barcodes/{barcode}",
        "/customers/C1": "/customers/{code}",
        "/customers/C2": "/customers/{code}",
        "/locations/L2": "/locations/{code}",
        "/suppliers/S2": "/suppliers/{code}",
        "/suppliers/S2/items": "/suppliers/{code}/items",
        "/suppliers/S2/items/NEW": "/suppliers/{code}/items/{sku}",
        "/suppliers/S2/edi": "/suppliers/{code}/edi",
        "/items/NEW/units/box": "/items/{sku}/units/{unit}",
    }
    if path in known:
        return known[path]
    for name, route in (
        ("{so}", "{number}"),
        ("{so2}", "{number}"),
        ("{po}", "{number}"),
        ("{po2}", "{number}"),
        ("{dpo}", "{number}"),
        ("{proposal2}", "{proposal_id}"),
        ("{proposal}", "{proposal_id}"),
        ("{notice}", "{notice_id}"),
        ("{mo}", "{number}"),
        ("{mo2}", "{number}"),
        ("{to}", "{number}"),
        ("{to2}", "{number}"),
        ("{st}", "{number}"),
        ("{st2}", "{number}"),
        ("{reservation}", "{reservation_id}"),
        ("{webhook}", "{webhook_id}"),
        ("{plan}", "{run_id}"),
        ("{line1}", "{line_id}"),
        ("{plan2}", "{run_id}"),
        ("/lines/1/", "/lines/{line}/"),
        ("/lines/2/", "/lines/{line}/"),
    ):
        path = path.replace(name, route)
    return path


@pytest.mark.slow
def test_every_event_the_walk_publishes_validates_against_its_schema(
    walked: tuple[list[Walked], TestClient], walk_engine: Engine
) -> None:
    """The walk makes one of each write; every outbox row it leaves is checked against the
    schema its type serves at GET /events/schemas (the one a receiver would check it with)."""
    _, api = walked
    served = api.get(f"{API}/events/schemas").json()
    with walk_engine.connect() as connection:
        rows = connection.execute(select(o.outbox.c.event, o.outbox.c.payload)).all()
    wrong = []
    for event, payload in rows:
        validator = jsonschema_rs.validator_for(served[event])
        data = json.loads(payload)
        wrong += [(event, data, e.message) for e in validator.iter_errors(data)]
    assert wrong == []
    published = {event for event, _ in rows}
    # The events this change added are among them: catalog, customers, stock, plans.
    assert {
        "item.created",
        "item.updated",
        "item.barcode_added",
        "item.barcode_removed",
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "stock.received",
        "stock.shipped",
        "stock.transferred",
        "stock.counted",
        "stock.scrapped",
        "reservation.created",
        "reservation.released",
        "plan.created",
        "plan.approved",
        "plan.released",
    } <= published
    assert len(published) >= 40
