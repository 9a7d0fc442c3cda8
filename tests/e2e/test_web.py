"""The web app through HTTP, as a browser uses it: sign in with the form, pages by role,
HTMX partials, actions with the session's CSRF token, errors as pages (both databases)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from conftest import Templates
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.config import Settings
from leanstock.domain.access import Role
from leanstock.domain.catalog import Item, Location, LocationKind, Policy, Supplier, SupplierItem
from leanstock.domain.customers import Customer
from leanstock.domain.ledger import ShipmentReason
from leanstock.domain.orders import number as order_number
from leanstock.entrypoints.api.app import create_app
from leanstock.services import (
    accounts,
    catalog,
    customers,
    forecasting,
    planning,
    purchasing,
    queries,
    serials,
    stock,
    tokens,
    transfers,
)
from leanstock.services.orders import NewLine, get_order, list_orders, place_order, ship_order

PASSWORD = "correct horse battery staple"
TODAY = datetime.now(UTC).date()
ROLES = [r.value for r in Role]


def email(role: str) -> str:
    return f"{role}@example.com"


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """This test's database: a copy of the shop for the tests that ask for `shop`, of the planned
    business for those that ask for `planned` (each built once per session and worker: a user
    per role is a password hash each, a plan is a forecast), else an empty one. A module that
    imports `shop` or `planned` imports this too."""
    seeds = {"shop": ("web_shop", open_the_shop), "planned": ("web_planned", plan_the_beans)}
    with templates.for_test(request, db_kind, seeds) as url:
        yield url


@pytest.fixture
def shop(engine: Engine) -> dict[str, str]:
    """A warehouse and a store; milk (lot-tracked, one lot expiring in 3 days), flour bought to
    order from a mill; a released purchase order for flour promised yesterday (late); a user
    per role (the warehouse user limited to WH, the supplier user to MILL). The test's database
    is a copy of the template `open_the_shop` built (see `db_url`)."""
    with engine.connect() as connection:  # plain SQL: a guard, not a test of the listing
        found = connection.exec_driver_sql(
            "SELECT o.id FROM purchase_orders o JOIN suppliers s ON s.id = o.supplier_id"
            " WHERE s.code = 'MILL' ORDER BY o.id"
        ).scalars()
        orders = [order_number("purchase", int(i)) for i in found]
    assert orders, "no shop in this database: import `db_url` from test_web with `shop`"
    return {"po": orders[0]}


def open_the_shop(engine: Engine) -> None:
    """The shop of the `shop` fixture, written into the session's template once."""
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("STORE", "Store", LocationKind.STORE))
    catalog.add_item(
        uow, Item("MILK", "Whole milk", unit="l", lot_tracked=True, shelf_life_days=10)
    )
    catalog.add_item(uow, Item("FLOUR", "Wheat flour", unit="kg", policy=Policy.BUY_TO_ORDER))
    catalog.add_item(uow, Item("SUGAR", "Cane sugar", unit="kg"))
    catalog.add_supplier(uow, Supplier("MILL", "Millbrook"))
    catalog.add_supplier_item(uow, SupplierItem("MILL", "FLOUR", Decimal("0.9"), 3))
    catalog.add_supplier_item(uow, SupplierItem("MILL", "MILK", Decimal("0.7"), 1))
    stock.receive(uow, "MILK", "WH", Decimal(12), lot="L-OLD", expires_on=TODAY + timedelta(3))
    stock.receive(uow, "SUGAR", "WH", Decimal(5))
    stock.ship(uow, "SUGAR", "WH", Decimal(5))
    po = purchasing.add_to_draft(
        uow,
        "MILL",
        [
            purchasing.NewPurchaseLine("MILK", Decimal(24), "WH", None, TODAY - timedelta(1)),
            purchasing.NewPurchaseLine("FLOUR", Decimal(50), "WH", None, TODAY - timedelta(1)),
        ],
    )
    purchasing.release(uow, po.number)
    for role in Role:
        bindings: dict[str, Any] = {}
        if role is Role.WAREHOUSE:
            bindings["locations"] = ["WH"]
        if role is Role.SUPPLIER:
            bindings["supplier"] = "MILL"
        accounts.create_user(uow, email(role.value), PASSWORD, role, **bindings)


@pytest.fixture
def browser(engine: Engine) -> Iterator[Callable[[str | None], TestClient]]:
    """`browser(role)`: a client signed in with the form as that role (None: not signed in)."""
    made: list[TestClient] = []

    def open_as(role: str | None) -> TestClient:
        client = TestClient(
            create_app(Settings(cookie_secure=False), engine=engine),
            raise_server_exceptions=False,
        )
        client.__enter__()
        made.append(client)
        if role is not None:
            # Signed in, not sent on to the page the form names: that page (Today, whose
            # queries are most of a sign-in's cost) is the test's to ask for, and
            # `test_signing_in_lands_on_today...` does.
            response = client.post(
                "/login",
                data={"email": email(role), "password": PASSWORD, "next": "/"},
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text
            home = "/portal" if role == Role.SUPPLIER.value else "/"
            assert response.headers["location"] == home
            assert client.cookies.get("leanstock_session")
        return client

    yield open_as
    for client in made:
        client.__exit__(None, None, None)


def csrf(page: Any) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "the page carries the session's CSRF token"
    return found.group(1)


def post_actions(page: Any) -> list[str]:
    """Where the page's forms post: every action a user can take on it."""
    forms = re.findall(r"<form[^>]*>", page.text)
    return [re.findall(r'action="([^"]+)"', f)[0] for f in forms if 'method="post"' in f]


def nav(page: Any) -> list[str]:
    block = page.text.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)"', block)


# Signing in and out


def test_a_page_without_a_session_sends_the_browser_to_sign_in(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser(None)
    assert web.get("/", follow_redirects=False).headers["location"] == "/login"
    response = web.get("/items?q=milk", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/items"
    partial = web.get("/items", headers={"HX-Request": "true"}, follow_redirects=False)
    assert partial.status_code == 401
    assert partial.headers["HX-Redirect"] == "/login?next=/items"
    page = web.get("/login")
    assert page.status_code == 200
    assert '<label for="email">' in page.text
    assert '<label for="password">' in page.text


def test_signing_in_lands_on_today_and_signing_out_ends_the_session(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("manager")
    today = web.get("/")
    assert "<h1>Today" in today.text
    assert web.cookies.get("leanstock_session")
    out = web.post("/logout", data={"csrf_token": csrf(today)}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    assert web.get("/", follow_redirects=False).headers["location"] == "/login"


def test_a_wrong_password_shows_the_reason_and_keeps_the_email(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser(None)
    page = web.post("/login", data={"email": email("owner"), "password": "not it", "next": "/"})
    assert page.status_code == 401
    assert "Email or password is wrong." in page.text
    assert f'value="{email("owner")}"' in page.text
    assert "leanstock_session" not in web.cookies


def test_sign_in_goes_back_to_the_page_asked_for_but_never_to_another_site(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser(None)
    form = {"email": email("owner"), "password": PASSWORD}
    there = web.post("/login", data={**form, "next": "/items"}, follow_redirects=False)
    assert there.headers["location"] == "/items"
    away = web.post("/login", data={**form, "next": "//evil.example/"}, follow_redirects=False)
    assert away.headers["location"] == "/"


def test_a_supplier_lands_on_its_purchase_orders(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("supplier")
    page = web.get("/purchase-orders")
    assert shop["po"] in page.text
    assert nav(page) == ["/portal", "/purchase-orders", "/suppliers/MILL"]
    assert web.get("/", follow_redirects=False).headers["location"] == "/portal"


# Pages by role

PAGES = [
    "/",
    "/items",
    "/items/MILK",
    "/stock",
    "/sales-orders",
    "/purchase-orders",
    "/suppliers",
    "/kpis",
    "/plans",
    "/forecasts",
]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_as_its_permissions_say(
    role: str, shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser(role)
    reads = role != "supplier"
    for path in [*PAGES, f"/purchase-orders/{shop['po']}"]:
        response = web.get(path, follow_redirects=False)
        if path in ("/", "/suppliers") and not reads:
            assert response.status_code == 303, path
            continue
        expected = 200 if reads or path.startswith("/purchase-orders") else 403
        assert response.status_code == expected, (path, response.text[:300])
        assert response.headers["content-type"].startswith("text/html")
        assert "Traceback" not in response.text
    new_order = web.get("/sales-orders/new")
    assert new_order.status_code == (200 if role in ("owner", "manager") else 403)


SUPPLY = ["/production-orders", "/transfer-orders"]


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (
            "owner",
            [
                *PAGES[:2],
                *PAGES[3:6],
                *SUPPLY,
                *PAGES[6:],
                "/customers",
                "/imports",
                "/settings/users",
            ],
        ),
        ("viewer", [*PAGES[:2], *PAGES[3:6], *SUPPLY, *PAGES[6:], "/customers"]),
        ("warehouse", [*PAGES[:2], *PAGES[3:6], *SUPPLY, *PAGES[6:], "/customers"]),
    ],
)
def test_the_navigation_shows_the_pages_the_role_may_read(
    role: str, links: list[str], shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    assert nav(browser(role).get("/items")) == links


def test_a_viewer_sees_no_action_and_may_post_none(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("viewer")
    page = web.get(f"/purchase-orders/{shop['po']}")
    assert page.status_code == 200
    assert post_actions(page) == ["/logout"]
    assert 'id="receive"' not in page.text
    assert "New sales order" not in web.get("/sales-orders").text
    manager = browser("manager").get(f"/purchase-orders/{shop['po']}").text
    assert f'action="/purchase-orders/{shop["po"]}/receive"' in manager
    token = csrf(page)
    refused = web.post(
        f"/purchase-orders/{shop['po']}/receive",
        data={"csrf_token": token, "qty_1": "24", "lot_1": "L-NEW"},
    )
    assert refused.status_code == 403
    assert "A viewer may not do this" in refused.text
    assert "<h1>Not allowed</h1>" in refused.text
    for path in ("/sales-orders/new", f"/purchase-orders/{shop['po']}/release"):
        assert web.post(path, data={"csrf_token": token}).status_code == 403


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    web = browser("warehouse")
    path = f"/purchase-orders/{shop['po']}/receive"
    refused = web.post(path, data={"qty_1": "24", "lot_1": "L-NEW"})
    assert refused.status_code == 403
    assert "reload it and try again" in refused.text
    forged = web.post(path, data={"csrf_token": "forged", "qty_1": "24", "lot_1": "L-NEW"})
    assert forged.status_code == 403
    view = purchasing.get_purchase_order(UnitOfWork(engine), shop["po"])
    assert all(line.received == 0 for line in view.lines)


def test_the_pages_allow_scripts_and_styles_from_this_site_only(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("owner")
    policy = web.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "http" not in policy
    anonymous = browser(None)
    for asset in (
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/uplot/uPlot.iife.min.js",
        "/static/app.css",
        "/static/app.js",
    ):
        assert anonymous.get(asset).status_code == 200, asset


# Today, items, stock


def test_today_shows_the_late_order_the_lot_expiring_and_the_stock_out(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    page = browser("manager").get("/").text
    late = page.split('id="late"', 1)[1].split("</section>", 1)[0]
    assert shop["po"] in late
    assert "MILL" in late
    expiring = page.split('id="expiring"', 1)[1].split("</section>", 1)[0]
    assert "L-OLD" in expiring
    assert str(TODAY + timedelta(3)) in expiring
    outs = page.split('id="outs"', 1)[1].split("</section>", 1)[0]
    assert "SUGAR" in outs
    assert "MILK" not in outs


def test_today_loads_the_kpi_tiles_and_chart_as_a_partial(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("manager")
    assert 'hx-get="/today/kpis"' in web.get("/").text
    partial = web.get("/today/kpis")
    assert partial.status_code == 200
    assert "stock value now" in partial.text
    assert "<html" not in partial.text
    series = re.search(r'data-series="([^"]+)"', partial.text)
    assert series is not None
    data = json.loads(html.unescape(series.group(1)))
    assert len(data["months"]) == 12
    assert data["months"][-1] == f"{TODAY.year:04d}-{TODAY.month:02d}"
    # SUGAR's 5 went out to a customer with nothing left short: the fill rate is shown.
    assert "stock-out item-days" in partial.text
    assert browser("supplier").get("/today/kpis").status_code == 403


def test_the_kpis_page_shows_the_window_the_months_and_the_groups_by_role(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("manager")
    page = web.get("/kpis")
    assert page.status_code == 200
    assert "stock value now" in page.text
    assert 'aria-current="page">KPIs' in page.text
    charts = re.findall(r'data-kpi-series="([^"]+)"', page.text)
    assert len(charts) == 2
    data = json.loads(html.unescape(charts[0]))
    assert len(data["months"]) == 12
    assert data["months"][-1] == f"{TODAY.year:04d}-{TODAY.month:02d}"
    assert len(data["fill_rate"]) == len(data["tied_up"]) == 12
    # The same figures as the API's, for the same filter.
    api = web.get("/api/v1/kpis", params={"months": 12}).json()
    tied_up = [float(f["money_tied_up"]) for f in api["history"]]
    assert data["tied_up"] == tied_up
    hx = {"HX-Request": "true"}
    items = web.get("/kpis", params={"group_by": "item", "months": 3}, headers=hx)
    assert items.status_code == 200
    assert "<html" not in items.text
    rows = items.text.split('id="groups"', 1)[1]
    assert 'href="/items/MILK"' in rows  # 12 on hand, at no cost given
    only = web.get("/kpis", params={"group_by": "item", "sku": "SUGAR"}).text
    assert "items/MILK" not in only
    for bad, named in (({"months": "0"}, "months"), ({"group_by": "colour"}, "colour")):
        refused = web.get("/kpis", params=bad)
        assert refused.status_code == 422
        assert named in refused.text
        assert "Traceback" not in refused.text
    assert web.get("/kpis", params={"sku": "NOPE"}).status_code == 404
    # A warehouse user reads its own location, and another one is not found.
    own = browser("warehouse").get("/kpis")
    assert own.status_code == 200
    assert '<option value="WH" selected>WH</option>' in own.text
    assert '<option value="STORE"' not in own.text
    assert browser("warehouse").get("/kpis", params={"location": "STORE"}).status_code == 404
    assert browser("supplier").get("/kpis").status_code == 403


def test_the_items_list_shows_each_items_classes_as_the_api_does(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("manager")
    plain = web.get("/items")
    assert 'name="classes"' in plain.text
    assert 'data-label="Class">' in plain.text  # the ABC class: always, for who reads plans
    assert ">XYZ</th>" not in plain.text
    classed = web.get("/items", params={"classes": "1"}, headers={"HX-Request": "true"})
    assert classed.status_code == 200
    assert ">XYZ</th>" in classed.text
    api = web.get("/api/v1/classification").json()["items"]
    for sku in ("MILK", "SUGAR"):
        (row,) = [r for r in api if r["sku"] == sku]
        cells = classed.text.split(f'href="/items/{sku}"', 1)[1].split("</tr>", 1)[0]
        assert f'data-label="Class">{row["abc_class"]}<' in cells
        assert f'data-label="Demand">{row["demand_class"]}<' in cells
        assert (row["stock_status"] or "no stock") in cells
    assert browser("supplier").get("/items", params={"classes": "1"}).status_code == 403


def test_searching_items_answers_the_matching_rows_as_a_partial(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("viewer")
    partial = web.get("/items", params={"q": "flo"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "FLOUR" in partial.text
    assert "MILK" not in partial.text
    whole = web.get("/items", params={"q": "milk"})
    assert "<html" in whole.text
    assert 'value="milk"' in whole.text
    assert 'href="/items.csv?q=flo&amp;category=&amp;kind="' in partial.text
    exported = web.get("/items.csv", params={"q": "flo"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = exported.text.splitlines()
    assert rows[0].startswith("sku,name,barcode,category,abc_class,stock,available,days_of_cover")
    assert [r.split(",")[0] for r in rows[1:]] == ["FLOUR"]
    none = web.get("/items", params={"q": "zzz"}, headers={"HX-Request": "true"})
    assert "No item matches" in none.text


def test_a_search_takes_percent_and_underscore_literally_and_the_csv_keeps_formulas_as_text(
    shop: dict[str, str], engine: Engine, browser: Callable[[str | None], TestClient]
) -> None:
    """An attacker names an item like a spreadsheet formula; whoever exports the list and opens
    it in a spreadsheet gets the text, not a live formula. And `%` or `_` typed in the search
    box match those characters, not any text (they are LIKE's wildcards)."""
    uow = UnitOfWork(engine)
    catalog.add_item(uow, Item("X_1", '=HYPERLINK("http://evil.example","click")', unit="pc"))
    catalog.add_item(uow, Item("PCT", "Discount 50% off", unit="pc"))
    web = browser("viewer")
    for typed, found in (("%", ["PCT"]), ("_", ["X_1"]), ("50%", ["PCT"]), ("%off", [])):
        page = web.get("/items", params={"q": typed}, headers={"HX-Request": "true"})
        shown = sorted(s for s in ("FLOUR", "MILK", "SUGAR", "X_1", "PCT") if f">{s}<" in page.text)
        assert shown == found, typed
    exported = web.get("/items.csv", params={"q": "evil"}).text.splitlines()
    assert exported[1].startswith("X_1,\"'=HYPERLINK(")
    assert "\n=HYPERLINK" not in "\n".join(exported)


def _cells(text: str, sku: str) -> str:
    return text.split(f'href="/items/{sku}"', 1)[1].split("</tr>", 1)[0]


def test_the_items_list_shows_stock_available_and_cover_and_sorts_by_them(
    shop: dict[str, str], engine: Engine, browser: Callable[[str | None], TestClient]
) -> None:
    """MILK: 12 at WH and a lot of 4 that expired yesterday; no demand. SUGAR: 40 in at STORE,
    28 sold there 3 days ago (half a day over 8 weeks), 2 reserved: 12 on hand, 10 available,
    20 days of cover. FLOUR: nothing."""
    uow = UnitOfWork(engine)
    gone = TODAY - timedelta(1)
    earlier = datetime.now(UTC) - timedelta(days=20)
    stock.receive(uow, "MILK", "WH", Decimal(4), lot="L-GONE", expires_on=gone, occurred_at=earlier)
    catalog.add_barcode(uow, "MILK", "4006381333931")
    stock.receive(uow, "SUGAR", "STORE", Decimal(40), occurred_at=earlier)
    sale = ShipmentReason.SALE
    three_days = datetime.now(UTC) - timedelta(days=3)
    stock.ship(uow, "SUGAR", "STORE", Decimal(28), reason=sale, occurred_at=three_days)
    stock.reserve(uow, "SUGAR", "STORE", Decimal(2), "SO-9")
    web = browser("manager")
    page = web.get("/items", params={"sort": "available", "dir": "desc", "q": ""})
    assert page.status_code == 200
    text = page.text
    assert text.index('href="/items/MILK"') < text.index('href="/items/SUGAR"')
    assert text.index('href="/items/SUGAR"') < text.index('href="/items/FLOUR"')
    milk, sugar = _cells(text, "MILK"), _cells(text, "SUGAR")
    assert 'data-label="Barcode">4006381333931<' in milk
    assert 'data-label="Stock" class="num">16<' in milk
    assert 'data-label="Available" class="num">12<' in milk  # the expired lot left out
    assert 'data-label="Days of cover" class="num">—<' in milk
    assert 'data-label="Stock" class="num">12<' in sugar
    assert 'data-label="Available" class="num">10<' in sugar
    assert 'data-label="Days of cover" class="num">20.0<' in sugar
    # The sorted header says so, and its link turns the order round, keeping the filters.
    header = text.split('aria-sort="descending"', 1)[1].split("</th>", 1)[0]
    assert "Available" in header
    assert 'href="/items?q=&amp;category=&amp;kind=&amp;sort=available&amp;dir=asc"' in header
    assert text.count("aria-sort=") == 1
    assert 'href="/items?q=&amp;category=&amp;kind=&amp;sort=cover&amp;dir=asc"' in text
    by_cover = web.get("/items", params={"sort": "cover"}, headers={"HX-Request": "true"})
    order = re.findall(r'href="/items/([A-Z]+)"', by_cover.text)
    assert order == ["SUGAR", "FLOUR", "MILK"]  # no demand: last, by SKU
    exported = web.get("/items.csv", params={"sort": "stock", "dir": "desc"}).text.splitlines()
    assert [r.split(",")[:8] for r in exported[1:]] == [
        ["MILK", "Whole milk", "4006381333931", "general", "C", "16", "12", ""],
        ["SUGAR", "Cane sugar", "", "general", "C", "12", "10", "20.0"],  # costs nothing
        ["FLOUR", "Wheat flour", "", "general", "C", "0", "0", ""],
    ]
    # A user of WH only sees WH's stock (and WH's demand: none).
    own = browser("warehouse").get("/items", params={"sort": "stock", "dir": "desc"}).text
    assert 'data-label="Stock" class="num">0<' in _cells(own, "SUGAR")
    assert 'data-label="Days of cover" class="num">—<' in _cells(own, "SUGAR")
    wrong = web.get("/items", params={"sort": "price"})
    assert wrong.status_code == 422
    assert "sort by one of sku, name" in html.unescape(wrong.text)


def test_the_item_page_shows_stock_per_lot_and_moves_and_feeds_its_chart(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("viewer")
    page = web.get("/items/MILK").text
    assert "L-OLD" in page
    assert str(TODAY + timedelta(3)) in page
    assert 'data-src="/items/MILK/chart.json"' in page
    terms = page.split("Suppliers and terms", 1)[1].split("</section>", 1)[0]
    assert "MILL" in terms
    assert "1 d" in terms
    sugar = web.get("/items/SUGAR/chart.json").json()
    assert len(sugar["history"]) == 26
    assert sum(week["shipped"] for week in sugar["history"]) == 5
    assert sugar["forecast"] == []
    assert web.get("/items/NOPE").status_code == 404


def test_stock_filters_by_location_and_stock_outs(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("owner")
    outs = web.get("/stock", params={"short": "1"}, headers={"HX-Request": "true"}).text
    assert "SUGAR" in outs
    assert "MILK" not in outs
    store = web.get("/stock", params={"location": "STORE"}, headers={"HX-Request": "true"})
    assert "No stock matches" in store.text


def test_stock_counts_expired_lots_as_unavailable_on_every_page_and_in_stock_outs(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    """Expired lots are summed only for the rows a page shows: each row still gets its own."""
    uow = UnitOfWork(engine)
    for n in range(60):
        catalog.add_item(uow, Item(f"JAM-{n:02d}", f"Jam {n}", lot_tracked=True))
        stock.receive(uow, f"JAM-{n:02d}", "WH", Decimal(n + 1), lot="FRESH")
    stock.receive(uow, "JAM-55", "WH", Decimal(7), lot="OLD", expires_on=TODAY - timedelta(2))
    stock.receive(uow, "MILK", "STORE", Decimal(4), lot="GONE", expires_on=TODAY - timedelta(1))
    web = browser("owner")

    def rows(params: dict[str, str]) -> dict[tuple[str, str], list[str]]:
        page = web.get("/stock", params=params, headers={"HX-Request": "true"}).text
        found = re.findall(
            r'<tr><td><a href="/items/[^"]+">([^<]+)</a></td><td>([^<]+)</td>(.*?)</tr>', page
        )
        return {(sku, loc): re.findall(r">([^<]*)</td>", cells) for sku, loc, cells in found}

    first = rows({})
    assert len(first) == 50
    assert first[("JAM-00", "WH")][:4] == ["1", "0", "0", "1"]
    second = rows({"offset": "50"})
    assert len(second) == 63 - 50  # 60 jams, milk at two locations, sugar; flour none
    assert second[("JAM-55", "WH")][:4] == ["63", "0", "7", "56"]
    assert second[("MILK", "STORE")][:4] == ["4", "0", "4", "0"]
    assert second[("MILK", "WH")][:4] == ["12", "0", "0", "12"]
    pager = web.get("/stock", params={"offset": "50"}, headers={"HX-Request": "true"}).text
    assert "51–63 of 63" in pager
    outs = rows({"short": "1"})
    assert set(outs) == {("MILK", "STORE"), ("SUGAR", "WH")}


def test_a_warehouse_user_sees_only_its_own_locations_stock(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("warehouse")
    page = web.get("/stock")
    assert page.status_code == 200
    assert '<option value="STORE"' not in page.text
    assert web.get("/stock", params={"location": "STORE"}).status_code == 404


# Receiving a purchase order


def test_the_back_door_receives_a_line_with_a_lot_and_expiry_and_a_reject(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    web = browser("warehouse")
    page = web.get(f"/purchase-orders/{shop['po']}")
    assert 'id="receive"' in page.text
    expiry = str(TODAY + timedelta(9))
    done = web.post(
        f"/purchase-orders/{shop['po']}/receive",
        data={
            "csrf_token": csrf(page),
            "qty_1": "22",
            "rejected_1": "2",
            "rejected_to_1": "supplier",
            "lot_1": "L-NEW",
            "expires_1": expiry,
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/purchase-orders/{shop['po']}?done=received"
    uow = UnitOfWork(engine)
    line = purchasing.get_purchase_order(uow, shop["po"]).lines[0]
    assert (line.received, line.rejected) == (Decimal(22), Decimal(2))
    lots = {r["lot"]: r for r in queries.lots(uow, "MILK", "WH")}
    assert lots["L-NEW"]["quantity"] == Decimal(22)
    assert lots["L-NEW"]["expires_on"] == date.fromisoformat(expiry)
    assert "Order received." in web.get(done.headers["location"]).text


def test_a_bad_receipt_shows_the_problem_beside_the_field_and_keeps_what_was_typed(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    web = browser("manager")
    path = f"/purchase-orders/{shop['po']}"
    token = csrf(web.get(path))
    typed = {"csrf_token": token, "qty_1": "twelve", "lot_1": "L-TYPED"}
    page = web.post(f"{path}/receive", data=typed, headers={"HX-Request": "true"})
    assert page.status_code == 422
    assert 'id="qty_1-error"' in page.text
    assert "quantity received on line 1 as a number" in page.text
    assert 'value="twelve"' in page.text
    assert 'value="L-TYPED"' in page.text
    empty = web.post(f"{path}/receive", data={"csrf_token": token})
    assert empty.status_code == 422
    assert "at least one line" in empty.text
    # The domain's own rule (a lot-tracked item needs its lot) comes back the same way.
    nolot = web.post(f"{path}/receive", data={"csrf_token": token, "qty_1": "3"})
    assert nolot.status_code == 422
    assert "lot" in nolot.text.lower()
    assert "Traceback" not in nolot.text
    view = purchasing.get_purchase_order(UnitOfWork(engine), shop["po"])
    assert all(line.received == 0 for line in view.lines)


# Sales orders


def test_a_manager_places_confirms_and_ships_a_sales_order(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    web = browser("manager")
    token = csrf(web.get("/sales-orders/new"))
    placed = web.post(
        "/sales-orders/new",
        data={
            "csrf_token": token,
            "customer": "Café Rosa",
            "location": "WH",
            "sku_1": "MILK",
            "qty_1": "4",
        },
        follow_redirects=False,
    )
    assert placed.status_code == 303, placed.text
    target = placed.headers["location"]
    number = target.split("/")[2].split("?")[0]
    page = web.get(target)
    assert "Café Rosa" in page.text
    assert ">draft<" in page.text
    assert f'action="/sales-orders/{number}/confirm"' in page.text
    confirmed = web.post(f"/sales-orders/{number}/confirm", data={"csrf_token": token})
    assert confirmed.status_code == 200
    assert "Order confirmed." in confirmed.text
    shipped = web.post(f"/sales-orders/{number}/ship", data={"csrf_token": token})
    assert "Order shipped." in shipped.text
    crafted = "cancelled. Your card was declined: call +1 555 0100 to pay"
    spoofed = web.get(f"/sales-orders/{number}", params={"done": crafted})
    assert spoofed.status_code == 200
    assert "555 0100" not in spoofed.text
    assert 'class="alert ok"' not in spoofed.text
    assert "Order cancelled." in web.get(f"/sales-orders/{number}?done=cancelled").text
    deleted = web.get("/customers", params={"done": "C-7 deleted"})
    assert "Customer C-7 deleted." in deleted.text
    assert ">shipped<" in shipped.text
    rows = {r["location"]: r for r in queries.stock(UnitOfWork(engine), "MILK").items}
    assert rows["WH"]["on_hand"] == Decimal(8)


def form_key(page: Any) -> str:
    found = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert found, "the form carries a key of its own"
    return found.group(1)


def test_a_double_clicked_submit_makes_one_order(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    """The same form posted twice (a double click) places one order; the second post gets
    the first one's answer. The next drawing of the form has a new key: a new order."""
    web = browser("manager")
    empty = web.get("/sales-orders/new")
    key = form_key(empty)
    assert form_key(web.get("/sales-orders/new")) != key
    form = {
        "csrf_token": csrf(empty),
        "idempotency_key": key,
        "customer": "Café Rosa",
        "location": "WH",
        "sku_1": "MILK",
        "qty_1": "4",
    }
    before = list_orders(UnitOfWork(engine)).total
    first = web.post("/sales-orders/new", data=form, follow_redirects=False)
    second = web.post("/sales-orders/new", data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    assert list_orders(UnitOfWork(engine)).total == before + 1
    # HTMX's post gets the same: one order, the second answer sends to the same page.
    form["idempotency_key"] = form_key(web.get("/sales-orders/new"))
    hx = {"HX-Request": "true"}
    third = web.post("/sales-orders/new", data=form, headers=hx, follow_redirects=False)
    fourth = web.post("/sales-orders/new", data=form, headers=hx, follow_redirects=False)
    assert third.status_code == fourth.status_code == 204
    assert fourth.headers["hx-location"] == third.headers["hx-location"]
    assert third.headers["hx-location"] != first.headers["location"]
    assert list_orders(UnitOfWork(engine)).total == before + 2
    # A refused form is drawn again with a new key, so the corrected post is a new request.
    wrong = web.post("/sales-orders/new", data={**form, "idempotency_key": "k1", "qty_1": "x"})
    assert wrong.status_code == 422
    assert form_key(wrong) != "k1"
    assert list_orders(UnitOfWork(engine)).total == before + 2


def test_a_double_clicked_receipt_receives_once(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    web = browser("warehouse")
    page = web.get(f"/purchase-orders/{shop['po']}")
    form = {"csrf_token": csrf(page), "idempotency_key": form_key(page), "qty_2": "10"}
    path = f"/purchase-orders/{shop['po']}/receive"
    first = web.post(path, data=form, follow_redirects=False)
    second = web.post(path, data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    view = purchasing.get_purchase_order(UnitOfWork(engine), shop["po"])
    assert view.lines[1].received == Decimal(10)


def test_a_sales_order_with_an_unknown_item_shows_the_problem_and_keeps_the_form(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("owner")
    token = csrf(web.get("/sales-orders/new"))
    form = {"csrf_token": token, "customer": "Café Rosa", "sku_1": "NOPE", "qty_1": "2"}
    page = web.post("/sales-orders/new", data=form)
    assert page.status_code == 422
    assert "NOPE" in page.text
    assert 'value="Café Rosa"' in page.text
    missing = web.post("/sales-orders/new", data={**form, "customer": ""})
    assert missing.status_code == 422
    assert "Name the customer: pick a customer record" in missing.text


def test_customers_are_listed_added_changed_and_deleted_through_the_pages(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    web = browser("manager")
    token = csrf(web.get("/customers"))
    fields = {"csrf_token": token, "code": "ROSA", "name": "Café Rosa", "priority": "2"}
    added = web.post("/customers", data={**fields, "active": "1"}, follow_redirects=False)
    assert added.status_code == 303
    assert added.headers["location"] == "/customers/ROSA?done=added"
    assert customers.get_customer(UnitOfWork(engine), "ROSA").priority == 2
    listed = web.get("/customers", params={"q": "rosa"}, headers={"HX-Request": "true"})
    assert 'href="/customers/ROSA"' in listed.text
    assert "<html" not in listed.text
    # A bad field is shown beside it and the form keeps what was typed; nothing is added.
    bad = web.post("/customers", data={**fields, "code": "BAD", "priority": "12"})
    assert bad.status_code == 422
    assert 'id="priority-error"' in bad.text
    assert "out of range" in bad.text
    assert 'value="BAD"' in bad.text
    assert customers.list_customers(UnitOfWork(engine), search="BAD").total == 0
    twice = web.post("/customers", data={**fields, "active": "1"})
    assert twice.status_code == 409
    changed = web.post(
        "/customers/ROSA",
        data={"csrf_token": token, "name": "Café Rosa", "email": "rosa@example.com", "active": "1"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert customers.get_customer(UnitOfWork(engine), "ROSA").email == "rosa@example.com"
    # The sales order form offers the record and places an order for it.
    options = web.get("/customers/options", params={"customer_code": "ros"})
    assert '<option value="ROSA">Café Rosa</option>' in options.text
    form = web.get("/sales-orders/new")
    assert 'id="customer_code"' in form.text
    placed = web.post(
        "/sales-orders/new",
        data={
            "csrf_token": csrf(form),
            "customer_code": "ROSA",
            "location": "WH",
            "sku_1": "SUGAR",
            "qty_1": "1",
        },
        follow_redirects=False,
    )
    assert placed.status_code == 303
    (order,) = list_orders(UnitOfWork(engine), customer_code="ROSA").items
    assert order["customer"] == "Café Rosa"
    # With an order, the customer cannot be deleted: the page says to deactivate it.
    refused = web.post("/customers/ROSA/delete", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "cannot be deleted" in html.unescape(refused.text)
    web.post("/customers", data={**fields, "code": "GONE", "active": "1"})
    gone = web.post("/customers/GONE/delete", data={"csrf_token": token}, follow_redirects=False)
    assert gone.status_code == 303
    assert customers.list_customers(UnitOfWork(engine), search="GONE").total == 0
    # A viewer reads the list and a record, and may change none.
    viewer = browser("viewer")
    assert "Add a customer" not in viewer.get("/customers").text
    assert viewer.get("/customers/ROSA").status_code == 200
    vtoken = csrf(viewer.get("/customers"))
    assert viewer.post("/customers", data={**fields, "csrf_token": vtoken}).status_code == 403


def test_bad_customer_fields_and_offsets_past_the_databases_are_refused_not_failed(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    """A priority of digits that are not ASCII ("²", which `str.isdigit` accepts) and an
    offset past a 64-bit integer are a 422 naming the field, not a 500; nothing is added."""
    web = browser("manager")
    token = csrf(web.get("/customers"))
    fields = {"csrf_token": token, "code": "SQ", "name": "Squared", "active": "1"}
    bad = web.post("/customers", data={**fields, "priority": "²"})
    assert bad.status_code == 422, bad.text[:300]
    assert 'id="priority-error"' in bad.text
    assert "whole number from 1 to 9" in bad.text
    assert customers.list_customers(UnitOfWork(engine), search="SQ").total == 0
    huge = str(2**63)
    for path in ("/customers", "/items"):
        far = web.get(path, params={"offset": huge})
        assert far.status_code == 422, (path, far.text[:300])
        assert "offset must be at most" in far.text
    # The largest offset the databases take is an empty page.
    assert "No customer matches" in web.get("/customers", params={"offset": str(2**63 - 1)}).text


def test_a_customer_page_links_to_its_records_orders_not_to_orders_of_the_same_name(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    """The record's orders, whatever name they were placed under; not a walk-in sale that
    happens to carry the record's name."""
    uow = UnitOfWork(engine)
    customers.add_customer(uow, Customer("ROSA", "Café Rosa"))
    line = [NewLine("SUGAR", Decimal(1), "WH")]
    own = place_order(uow, "Rosa's party", line, customer_code="ROSA")
    walk_in = place_order(uow, "Café Rosa", line)
    web = browser("viewer")
    page = web.get("/customers/ROSA")
    link = re.search(r'href="(/sales-orders\?[^"]+)"', page.text)
    assert link is not None
    listed = web.get(html.unescape(link.group(1)))
    assert listed.status_code == 200
    assert f"/sales-orders/{own.number}" in listed.text
    assert f"/sales-orders/{walk_in.number}" not in listed.text
    assert "The orders of customer record" in listed.text
    unknown = web.get("/sales-orders", params={"customer_code": "NOPE"})
    assert unknown.status_code == 404


def on_hand(engine: Engine, sku: str, location: str) -> Decimal:
    rows = {r["location"]: r for r in queries.stock(UnitOfWork(engine), sku).items}
    return Decimal(rows[location]["on_hand"]) if location in rows else Decimal(0)


def test_stock_forms_receive_transfer_scrap_and_ship(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    web = browser("manager")
    assert 'href="/stock/move?kind=scrap"' in web.get("/stock").text
    page = web.get("/stock/move?kind=receive")
    form = {"csrf_token": csrf(page), "kind": "receive", "sku": "SUGAR", "location": "WH"}
    done = web.post("/stock/move", data={**form, "quantity": "10"})
    assert done.status_code == 200
    assert "Received." in done.text
    assert on_hand(engine, "SUGAR", "WH") == Decimal(10)
    moved = web.post(
        "/stock/move", data={**form, "kind": "transfer", "target": "STORE", "quantity": "4"}
    )
    assert "Transferred." in moved.text
    assert (on_hand(engine, "SUGAR", "WH"), on_hand(engine, "SUGAR", "STORE")) == (
        Decimal(6),
        Decimal(4),
    )
    # A scrap needs its reason: the problem beside the field, what was typed kept.
    scrap = {**form, "kind": "scrap", "quantity": "1.5", "note": "bag torn"}
    refused = web.post("/stock/move", data=scrap)
    assert refused.status_code == 422
    assert '<p class="field-error" id="reason-error">Choose why it is scrapped' in refused.text
    assert 'value="1.5"' in refused.text
    assert 'value="bag torn"' in refused.text
    assert on_hand(engine, "SUGAR", "WH") == Decimal(6)
    assert "Scrapped." in web.post("/stock/move", data={**scrap, "reason": "damage"}).text
    assert on_hand(engine, "SUGAR", "WH") == Decimal("4.5")
    # More than there is: refused with the service's message, nothing booked, the form kept.
    too_much = web.post("/stock/move", data={**form, "kind": "ship", "quantity": "50"})
    assert too_much.status_code == 422
    assert 'value="50"' in too_much.text
    assert on_hand(engine, "SUGAR", "WH") == Decimal("4.5")
    wrong = web.post("/stock/move", data={**form, "kind": "ship", "quantity": "lots"})
    assert wrong.status_code == 422
    assert 'id="quantity-error">Enter the quantity as a number' in wrong.text
    assert 'value="lots"' in wrong.text
    assert (
        "Shipped." in web.post("/stock/move", data={**form, "kind": "ship", "quantity": "2"}).text
    )
    assert on_hand(engine, "SUGAR", "WH") == Decimal("2.5")


def test_stock_forms_carry_serials_one_per_line(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    catalog.add_item(UnitOfWork(engine), Item("LAPTOP", "Laptop", serial_tracked=True))
    web = browser("manager")
    page = web.get("/stock/move?kind=receive")
    assert '<textarea id="serials" name="serials"' in page.text
    form = {"csrf_token": csrf(page), "kind": "receive", "sku": "LAPTOP", "location": "WH"}
    unnamed = web.post("/stock/move", data={**form, "quantity": "2"})
    assert unnamed.status_code == 422
    assert 'id="serials-error">Item LAPTOP is serial-tracked' in unnamed.text
    done = web.post("/stock/move", data={**form, "quantity": "2", "serials": "L1\r\n  L2 \n\n"})
    assert "Received." in done.text
    assert on_hand(engine, "LAPTOP", "WH") == Decimal(2)
    moved = {**form, "kind": "transfer", "target": "STORE", "quantity": "1", "serials": "L2"}
    assert "Transferred." in web.post("/stock/move", data=moved).text
    again = web.post("/stock/move", data=moved)
    assert again.status_code == 422
    assert 'id="serials-error">Serial L2 of LAPTOP is not at WH' in again.text
    assert ">L2</textarea>" in again.text
    page = serials.list_serials(UnitOfWork(engine), "LAPTOP")
    assert {s.serial: s.location for s in page.items} == {"L1": "WH", "L2": "STORE"}


def test_stock_forms_follow_the_role_and_its_locations(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    viewer = browser("viewer")
    assert 'href="/stock/move' not in viewer.get("/stock").text
    assert viewer.get("/stock/move").status_code == 403
    warehouse = browser("warehouse")
    page = warehouse.get("/stock/move?kind=transfer")
    assert '<option value="STORE"' not in page.text  # only its own locations to choose
    form = {"csrf_token": csrf(page), "kind": "transfer", "sku": "MILK", "location": "WH"}
    refused = warehouse.post("/stock/move", data={**form, "target": "STORE", "quantity": "1"})
    assert refused.status_code == 404
    assert 'id="target-error">No location STORE exists.' in refused.text
    assert on_hand(engine, "MILK", "WH") == Decimal(12)
    elsewhere = warehouse.post(
        "/stock/move", data={**form, "kind": "receive", "location": "STORE", "quantity": "1"}
    )
    assert elsewhere.status_code == 404
    assert on_hand(engine, "MILK", "STORE") == Decimal(0)


def test_a_transfer_order_is_shipped_at_its_source_and_received_at_its_target(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    uow = UnitOfWork(engine)
    made = transfers.create_transfer_order(uow, "MILK", "WH", "STORE", Decimal(5))
    transfers.release_transfer(uow, made.number)
    path = f"/transfer-orders/{made.number}"
    viewer = browser("viewer")
    assert made.number in viewer.get("/transfer-orders").text
    assert post_actions(viewer.get(path)) == ["/logout"]
    assert (
        viewer.post(f"{path}/ship", data={"csrf_token": csrf(viewer.get(path))}).status_code == 403
    )
    # The warehouse user (WH only) ships from WH but may not receive at the store.
    warehouse = browser("warehouse")
    page = warehouse.get(path)
    assert post_actions(page) == ["/logout", f"{path}/ship"]
    shipped = warehouse.post(f"{path}/ship", data={"csrf_token": csrf(page)})
    assert "Order shipped." in shipped.text
    assert "in transit" in shipped.text
    assert f"{path}/receive" not in post_actions(shipped)
    refused = warehouse.post(f"{path}/receive", data={"csrf_token": csrf(page)})
    assert refused.status_code == 422  # as the API answers: its locations are all it knows
    assert "No location STORE exists." in refused.text
    assert transfers.get_transfer_order(UnitOfWork(engine), made.number).received == 0
    # The manager receives what arrived; a mistyped quantity is shown beside its field.
    manager = browser("manager")
    page = manager.get(path)
    token = csrf(page)
    wrong = manager.post(f"{path}/receive", data={"csrf_token": token, "quantity": "4,x"})
    assert wrong.status_code == 422
    assert 'id="quantity-error">Enter the quantity that arrived as a number' in wrong.text
    assert 'value="4,x"' in wrong.text
    done = manager.post(f"{path}/receive", data={"csrf_token": token, "quantity": "4"})
    assert "Order received." in done.text
    view = transfers.get_transfer_order(UnitOfWork(engine), made.number)
    assert (view.status, view.received) == ("received", Decimal(4))
    assert on_hand(engine, "MILK", "STORE") == Decimal(4)


def test_a_control_character_in_a_form_is_refused_on_both_databases(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    """A NUL in a form field was a 500 on PostgreSQL and stored by SQLite."""
    web = browser("owner")
    token = csrf(web.get("/sales-orders/new"))
    before = list_orders(UnitOfWork(engine)).total
    form = {"csrf_token": token, "customer": "Café\x00Rosa", "location": "WH"}
    page = web.post("/sales-orders/new", data={**form, "sku_1": "MILK", "qty_1": "2"})
    assert page.status_code == 422
    assert "control characters" in page.text
    assert list_orders(UnitOfWork(engine)).total == before
    assert web.get("/items/MI%00LK").status_code == 422


def test_a_warehouse_user_ships_but_cannot_confirm(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    uow = UnitOfWork(engine)
    order = place_order(uow, "Café Rosa", [NewLine("MILK", Decimal(2), "WH")], confirm=True)
    web = browser("warehouse")
    page = web.get(f"/sales-orders/{order.number}")
    assert "Ship what is reserved" in page.text
    assert "Cancel order" not in page.text
    token = csrf(page)
    assert (
        web.post(f"/sales-orders/{order.number}/cancel", data={"csrf_token": token}).status_code
        == 403
    )
    shipped = web.post(f"/sales-orders/{order.number}/ship", data={"csrf_token": token})
    assert shipped.status_code == 200
    assert ">shipped<" in shipped.text


# Errors


def test_errors_are_pages_with_the_fix_never_a_stack_trace(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("owner")
    missing = web.get("/no-such-page")
    assert missing.status_code == 404
    assert "<h1>Not found</h1>" in missing.text
    assert "Check the address" in missing.text
    order = web.get("/purchase-orders/PO-999999")
    assert order.status_code == 404
    assert "PO-999999" in order.text
    token = csrf(web.get("/"))
    twice = web.post(f"/purchase-orders/{shop['po']}/release", data={"csrf_token": token})
    assert twice.status_code == 409
    assert "<h1>Not now</h1>" in twice.text
    # The API keeps answering problems as JSON.
    api = web.get("/api/v1/nope")
    assert api.headers["content-type"] == "application/problem+json"


# Plans


@pytest.fixture
def planned(engine: Engine) -> int:
    """Coffee beans bought from a roaster, 12 weeks of sales, little left, a forecast: a plan
    that suggests buying beans (its id). The database is a copy of the template `plan_the_beans`
    built (see `db_url`)."""
    plans = planning.list_plans(UnitOfWork(engine))
    assert plans.items, "no plan in this database: import `db_url` from test_web with `planned`"
    return plans.items[0].id


def plan_the_beans(engine: Engine) -> None:
    """The business and the plan of the `planned` fixture, written into a template once."""
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("BEANS", "Coffee beans", unit="kg", unit_cost=Decimal(12)))
    catalog.add_supplier(uow, Supplier("ROAST", "Roastery"))
    catalog.add_supplier_item(uow, SupplierItem("ROAST", "BEANS", Decimal(11), 7))
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    start -= timedelta(days=start.weekday() + 7 * 12)
    # The opening stock was there before the history it served (no past may go negative).
    stock.receive(uow, "BEANS", "WH", Decimal(1000), occurred_at=start - timedelta(days=1))
    for week in range(12):
        when = start + timedelta(weeks=week)
        order = place_order(
            uow,
            f"Guest {week}",
            [NewLine("BEANS", Decimal(40 + week % 3), "WH")],
            confirm=True,
            ordered_at=when,
        )
        ship_order(uow, order.number, occurred_at=when + timedelta(hours=2))
    stock.count(uow, "BEANS", "WH", Decimal(5))
    forecasting.run_forecast(uow, 4, "W")
    for role in (Role.OWNER, Role.MANAGER, Role.BUYER, Role.VIEWER):
        accounts.create_user(uow, email(role.value), PASSWORD, role)
    planning.run_plan(uow)


def test_a_plan_is_reviewed_approved_and_released_as_orders_by_role(
    planned: int, browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    path = f"/plans/{planned}"
    viewer = browser("viewer").get(path)
    assert "BEANS" in viewer.text
    assert "ROAST" in viewer.text
    assert post_actions(viewer) == ["/logout"]
    buyer = browser("buyer")
    page = buyer.get(path)
    (line_action,) = [a for a in post_actions(page) if "/lines/" in a]
    assert f"{path}/approve" not in post_actions(page)  # a buyer edits, a manager approves
    token = csrf(page)
    edited = buyer.post(line_action, data={"csrf_token": token, "quantity": "120"})
    assert edited.status_code == 200
    assert 'value="120"' in edited.text
    wrong = buyer.post(line_action, data={"csrf_token": token, "quantity": "lots"})
    assert wrong.status_code == 422
    assert "quantity as a number" in wrong.text
    assert buyer.post(f"{path}/approve", data={"csrf_token": token}).status_code == 403
    manager = browser("manager")
    token = csrf(manager.get(path))
    approved = manager.post(f"{path}/approve", data={"csrf_token": token})
    assert "Plan approved." in approved.text
    assert f'action="{path}/release"' in approved.text
    released = manager.post(f"{path}/release", data={"csrf_token": token})
    assert "Plan released." in released.text
    found = re.search(r'href="/purchase-orders/(PO-\d+)"', released.text)
    assert found, "the released line links to its purchase order"
    order = purchasing.get_purchase_order(UnitOfWork(engine), found.group(1))
    assert order.status == "released"
    assert [(ln.sku, ln.quantity) for ln in order.lines] == [("BEANS", Decimal(120))]
    listed = manager.get("/plans")
    assert f'href="/plans/{planned}"' in listed.text
    assert ">released<" in listed.text


# Counting stock and the item autocomplete


def test_a_count_sheet_books_each_counted_row_and_says_what_a_lot_item_needs(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    web = browser("warehouse")
    assert 'href="/stock/count' in web.get("/stock").text
    sheet = web.get("/stock/count")
    assert sheet.status_code == 200
    assert '<option value="STORE"' not in sheet.text  # only the user's own location
    assert 'id="count-SUGAR-WH"' in sheet.text
    token = csrf(sheet)
    row = web.post(
        "/stock/count",
        data={"csrf_token": token, "sku": "SUGAR", "location": "WH", "counted": "7"},
        headers={"HX-Request": "true"},
    )
    assert row.status_code == 200
    assert "<html" not in row.text  # only the row comes back
    assert ">booked<" in row.text
    assert "7 kg" in row.text
    levels = queries.stock(UnitOfWork(engine), "SUGAR", "WH").items
    assert levels[0]["on_hand"] == Decimal(7)
    milk = web.post(
        "/stock/count",
        data={"csrf_token": token, "sku": "MILK", "location": "WH", "counted": "10"},
    )
    assert milk.status_code == 422
    assert 'id="error-MILK-WH"' in milk.text
    assert "lot" in milk.text
    assert 'value="10"' in milk.text
    elsewhere = web.post(
        "/stock/count",
        data={"csrf_token": token, "sku": "SUGAR", "location": "STORE", "counted": "1"},
    )
    assert elsewhere.status_code == 404
    assert queries.stock(UnitOfWork(engine), "SUGAR", "WH").items[0]["on_hand"] == Decimal(7)


def test_a_viewer_may_not_count(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("viewer")
    assert 'href="/stock/count' not in web.get("/stock").text
    assert web.get("/stock/count").status_code == 403
    token = csrf(web.get("/stock"))
    data = {"csrf_token": token, "sku": "SUGAR", "location": "WH", "counted": "7"}
    assert web.post("/stock/count", data=data).status_code == 403


def test_the_sku_field_suggests_items_by_sku_or_name(
    shop: dict[str, str], browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("manager")
    options = web.get("/items/options", params={"sku_2": "milk"}, headers={"HX-Request": "true"})
    assert options.status_code == 200
    assert '<option value="MILK">Whole milk</option>' in options.text
    assert "FLOUR" not in options.text
    assert 'list="skus"' in web.get("/sales-orders/new").text


def test_part_of_a_line_ships_and_a_cancelled_line_gives_back_the_supply_it_pulled(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    uow = UnitOfWork(engine)
    lines = [NewLine("MILK", Decimal(4), "WH"), NewLine("FLOUR", Decimal(10), "WH")]
    order = place_order(uow, "Café Rosa", lines, confirm=True)
    (pulled,) = [p.supply for p in order.lines[1].pegs]
    draft = pulled.split("/")[0]
    assert purchasing.get_purchase_order(uow, draft).status == "draft"
    web = browser("manager")
    path = f"/sales-orders/{order.number}"
    page = web.get(path)
    assert f'action="{path}/lines/1/ship"' in page.text
    assert f'action="{path}/lines/2/ship"' not in page.text  # nothing reserved for it yet
    token = csrf(page)
    shipped = web.post(f"{path}/lines/1/ship", data={"csrf_token": token, "quantity": "1"})
    assert "Order shipped." in shipped.text
    milk = orders_line(engine, order.number, 1)
    assert (milk.shipped, milk.reserved) == (Decimal(1), Decimal(3))
    wrong = web.post(f"{path}/lines/1/ship", data={"csrf_token": token, "quantity": "x"})
    assert wrong.status_code == 422
    assert "quantity to ship on line 1 as a number" in wrong.text
    cancelled = web.post(f"{path}/lines/2/cancel", data={"csrf_token": token})
    assert "Order changed." in cancelled.text
    assert orders_line(engine, order.number, 2).cancelled
    after = purchasing.get_purchase_order(UnitOfWork(engine), draft)
    # The draft held only this line's flour: it shrinks to nothing and is cancelled.
    assert after.status == "cancelled"
    assert [(ln.sku, ln.quantity) for ln in after.lines] == [("FLOUR", Decimal(0))]
    viewer = browser("viewer").get(path)
    assert post_actions(viewer) == ["/logout"]


def orders_line(engine: Engine, number: str, line_no: int) -> Any:
    found = get_order(UnitOfWork(engine), number)
    return next(ln for ln in found.lines if ln.line_no == line_no)


# Suppliers


@pytest.fixture
def delivered(shop: dict[str, str], engine: Engine) -> None:
    """ROAST sells sugar; two orders asked for by day 5 (30 days ago is day 0): one arrived on
    day 4 in full, one on day 8 with 8 accepted and 2 rejected. OTIF 1 of 2, defects 2 of 20,
    lead times 4 and 8 days."""
    uow = UnitOfWork(engine)
    day0 = TODAY - timedelta(days=30)
    sent = datetime.combine(day0, datetime.min.time(), UTC) + timedelta(hours=9)
    catalog.add_supplier(uow, Supplier("ROAST", "Roastery"))
    catalog.add_supplier_item(uow, SupplierItem("ROAST", "SUGAR", Decimal("1.5"), 5))
    for arrived, accepted, rejected in ((4, 10, 0), (8, 8, 2)):
        view = purchasing.add_to_draft(
            uow,
            "ROAST",
            [purchasing.NewPurchaseLine("SUGAR", Decimal(10), "WH", None, day0 + timedelta(5))],
        )
        purchasing.release(uow, view.number, at=sent)
        purchasing.receive(
            uow,
            view.number,
            [purchasing.ReceiptLine(1, Decimal(accepted), rejected=Decimal(rejected))],
            received_on=day0 + timedelta(arrived),
        )


def test_the_suppliers_list_ranks_by_measured_delivery_performance(
    delivered: None, browser: Callable[[str | None], TestClient]
) -> None:
    page = browser("viewer").get("/suppliers")
    assert page.status_code == 200
    rows = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    assert "ROAST" in rows[0]
    assert "50.0 %" in rows[0]  # OTIF: one of two
    assert "10.0 %" in rows[0]  # defects: 2 of 20
    assert "6.0" in rows[0]  # lead time: 4 and 8 days
    assert "MILL" in rows[1]
    assert "nothing to judge yet" in rows[1]


def test_the_supplier_page_shows_terms_figures_and_months(
    delivered: None, browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    page = browser("buyer").get("/suppliers/ROAST")
    assert page.status_code == 200
    facts = page.text.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0]
    assert "<dd>2</dd>" in facts
    assert "50.0 %" in facts
    assert "10.0 %" in facts
    assert "Below the standard" not in page.text  # two deliveries: too few to judge
    uow = UnitOfWork(engine)
    for _ in range(3):  # three more, each with 2 of 10 rejected: 8 of 50 in all, 16%
        view = purchasing.add_to_draft(
            uow, "ROAST", [purchasing.NewPurchaseLine("SUGAR", Decimal(10), "WH")]
        )
        purchasing.release(uow, view.number)
        purchasing.receive(
            uow, view.number, [purchasing.ReceiptLine(1, Decimal(8), rejected=Decimal(2))]
        )
    judged = browser("buyer").get("/suppliers/ROAST?months=0")
    assert "Below the standard: on time in full 20% of 5 deliveries" in judged.text
    assert "defect rate 16.0%, above the standard 2.0%" in judged.text
    month = (TODAY - timedelta(days=30 - 4)).strftime("%Y-%m")
    assert month in page.text.split("Month by month", 1)[1]
    terms = page.text.split('id="terms"', 1)[1]
    assert '<a href="/items/SUGAR">SUGAR</a>' in terms
    assert "5 d" in terms
    assert "Nothing delivered yet" in browser("buyer").get("/suppliers/MILL").text
    missing = browser("buyer").get("/suppliers/NOPE")
    assert missing.status_code == 404
    assert "NOPE" in missing.text


def test_supplier_pages_judge_a_window_with_the_apis_figures(
    delivered: None, engine: Engine, browser: Callable[[str | None], TestClient]
) -> None:
    """A delivery 300 days ago (late and short) counts in the last 12 months, not the last
    6 (the default); either way the page shows the API's own scorecard for that window."""
    uow = UnitOfWork(engine)
    old = TODAY - timedelta(days=300)
    view = purchasing.add_to_draft(
        uow, "ROAST", [purchasing.NewPurchaseLine("SUGAR", Decimal(10), "WH", None, old)]
    )
    purchasing.release(uow, view.number, at=datetime.combine(old, datetime.min.time(), UTC))
    purchasing.receive(
        uow, view.number, [purchasing.ReceiptLine(1, Decimal(5))], received_on=old + timedelta(3)
    )
    api = browser(None)
    owner = accounts.user_id_of(uow, email("owner"))
    token = tokens.create_token(uow, owner, "scorecards").secret
    for months, deliveries in ((None, 2), (6, 2), (12, 3), (0, 3), (7, 2)):
        query = "" if months is None else f"?months={months}"
        page = browser("viewer").get(f"/suppliers{query}")
        since = None if months == 0 else TODAY - timedelta(days=365 if months == 12 else 182)
        ranking = api.get(
            "/api/v1/supplier-scorecards" + (f"?since={since}" if since else ""),
            headers={"Authorization": f"Bearer {token}"},
        ).json()["suppliers"]
        card = next(c for c in ranking if c["supplier"] == "ROAST")
        f = card["figures"]
        assert f["deliveries"] == deliveries
        row = page.text.split("<tbody>", 1)[1].split("</tr>", 1)[0]
        assert f'<td class="num" data-label="Deliveries">{deliveries}</td>' in row
        for name in ("otif", "on_time_confirmed", "in_full", "defect_rate"):
            assert f"{f[name] * 100:.1f} %" in row, name
        assert f"{f['lead_time_mean_days']:.1f}" in row
        detail = browser("buyer").get(f"/suppliers/ROAST{query}")
        facts = detail.text.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0]
        assert f"<dd>{deliveries}</dd>" in facts
        assert f"{f['otif'] * 100:.1f} %" in facts
        if since is not None:
            assert f"Receipts from {since} on." in detail.text
    assert "Every receipt ever recorded." in browser("viewer").get("/suppliers?months=0").text


def test_a_supplier_user_sees_only_its_own_scorecard_and_no_terms(
    delivered: None, browser: Callable[[str | None], TestClient]
) -> None:
    web = browser("supplier")
    landed = web.get("/suppliers", follow_redirects=False)
    assert landed.status_code == 303
    assert landed.headers["location"] == "/suppliers/MILL"
    own = web.get("/suppliers/MILL")
    assert own.status_code == 200
    assert 'id="terms"' not in own.text
    assert 'href="/suppliers"' not in own.text
    assert web.get("/suppliers/ROAST").status_code == 404


# Forecasts


@pytest.fixture
def forecast_run(engine: Engine) -> int:
    """Forty weeks of orders for a steady seller and a slow, lumpy one; a 4-week forecast."""
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    for sku in ("STEADY", "LUMPY"):
        catalog.add_item(uow, Item(sku, sku.title()))
        stock.receive(uow, sku, "WH", Decimal(100_000))
    monday = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    monday -= timedelta(days=monday.weekday() + 7 * 40)
    for week in range(40):
        lines = [NewLine("STEADY", Decimal(18 + week % 5), "WH")]
        if week % 4 == 1:
            lines.append(NewLine("LUMPY", Decimal(5 + week % 7), "WH"))
        place_order(
            uow, f"Customer {week}", lines, confirm=True, ordered_at=monday + timedelta(weeks=week)
        )
    for role in (Role.OWNER, Role.VIEWER):
        accounts.create_user(uow, email(role.value), PASSWORD, role)
    return forecasting.run_forecast(uow, 4, "W").id


def test_the_forecasts_page_lists_runs_and_a_run_shows_accuracy_by_model_and_class(
    forecast_run: int, browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    uow = UnitOfWork(engine)
    scores: dict[tuple[str, str], list[float]] = {}
    for sku in ("STEADY", "LUMPY"):
        for row in forecasting.item_accuracy(uow, sku, run_id=forecast_run)[1]:
            key = (row["demand_class"], row["model"])
            scores.setdefault(key, []).append(row["metrics"]["mase"])
    assert scores, "forty weeks leave some history to score a four-week forecast on"
    web = browser("viewer")
    listed = web.get("/forecasts")
    assert listed.status_code == 200
    assert f'<a href="/forecasts/{forecast_run}">Run {forecast_run}</a>' in listed.text
    page = web.get(f"/forecasts/{forecast_run}")
    assert page.status_code == 200
    classes = page.text.split('id="classes"', 1)[1].split("</section>", 1)[0]
    shown = re.findall(
        r"<tr><td[^>]*>([^<]+)</td><td[^>]*>(?:<strong>)?([^<]+)(?:</strong>)?</td>"
        r"<td[^>]*>(\d+)</td><td[^>]*>([^<]+)</td>",
        classes,
    )
    expected = {
        (c, "chosen per series" if m == "selected" else m): (str(len(v)), f"{sum(v) / len(v):.3f}")
        for (c, m), v in scores.items()
    }
    assert {(c, m): (n, mase) for c, m, n, mase in shown} == expected
    assert "chosen per series" in page.text.split('id="models"', 1)[1]
    assert web.get("/forecasts/999").status_code == 404
