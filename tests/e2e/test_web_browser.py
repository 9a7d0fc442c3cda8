"""The web app in a real browser: Debian's chromium driven by Playwright, against a live server.

Launched as `/usr/bin/chromium --no-sandbox` (never `playwright install`); where chromium is
missing the tests skip, except under CI, which installs it (.ci/run) and so must run them. A
failing test leaves a screenshot of the page in its tmp_path.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine
from test_web import PASSWORD, TODAY, email, shop

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.config import Settings
from leanstock.entrypoints.api.app import create_app
from leanstock.services import purchasing, queries

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.slow
__all__ = ["shop"]  # the business the HTTP tests use


if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must install chromium ({CHROMIUM}) for the browser tests.")
    pytest.skip(f"no {CHROMIUM}: apt-get install chromium", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@contextmanager
def serving(engine: Engine) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 while the block runs; its base URL."""
    app = create_app(Settings(cookie_secure=False), engine=engine)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(400):
        if running.started:
            started.set()
            break
        started.wait(0.05)
    assert running.started, "the server started"
    port = running.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(engine: Engine, shop: dict[str, str]) -> Iterator[str]:
    """The app serving the shop for the test's length; its base URL."""
    with serving(engine) as url:
        yield url


@pytest.fixture
def page(server: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser page; its console errors (a CSP violation is one) are collected in
    `page.errors`. On failure, a screenshot is left in the test's tmp_path."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
        opened = context.new_page()
        opened.set_default_timeout(15_000)
        errors: list[str] = []
        opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        opened.on("pageerror", lambda e: errors.append(str(e)))
        opened.errors = errors
        yield opened
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            shot = tmp_path / "failure.png"
            opened.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failed page: {shot}")
        context.close()
        browser.close()


def screenshot(page: Any, name: str) -> None:
    """With LEANSTOCK_SCREENSHOTS=DIR, keep a picture of the page (the README's come from here)."""
    folder = os.environ.get("LEANSTOCK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def sign_in(page: Any, role: str) -> None:
    page.goto("/")
    assert page.url.endswith("/login")
    page.get_by_label("Email").fill(email(role))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.endswith("/login"))


def test_receiving_at_the_back_door_with_a_lot_after_finding_the_item(
    page: Any, shop: dict[str, str], engine: Engine
) -> None:
    expect: Callable[..., Any] = sync_api.expect
    sign_in(page, "warehouse")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    expect(page.locator("#late")).to_contain_text(shop["po"])
    expect(page.locator("#kpis")).not_to_contain_text("Loading")  # the picture shows them
    screenshot(page, "today.png")

    page.get_by_role("link", name="Items").click()
    page.get_by_label("Search").press_sequentially("mil", delay=30)
    results = page.locator("#results")
    expect(results).not_to_contain_text("FLOUR")
    expect(results).to_contain_text("MILK")
    assert "q=mil" in page.url  # the search is in the address, so it can be shared
    results.get_by_role("link", name="MILK").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("MILK")
    expect(page.get_by_role("cell", name="L-OLD").first).to_be_visible()
    expect(page.locator("#chart[data-ready] canvas")).to_be_visible()
    screenshot(page, "item.png")

    page.goto(f"/purchase-orders/{shop['po']}")
    page.get_by_label("Received").first.fill("20")
    page.get_by_label("Lot").first.fill("L-0412")
    expiry = TODAY + timedelta(days=9)
    page.get_by_label("Expires").first.fill(expiry.isoformat())
    page.get_by_role("button", name="Receive").click()
    expect(page.locator("#messages")).to_contain_text("Order received.")
    expect(page.locator("table").first).to_contain_text("20")

    lots = {r["lot"]: r for r in queries.lots(UnitOfWork(engine), "MILK", "WH")}
    assert lots["L-0412"]["quantity"] == Decimal(20)
    assert lots["L-0412"]["expires_on"] == expiry
    line = purchasing.get_purchase_order(UnitOfWork(engine), shop["po"]).lines[0]
    assert line.received == Decimal(20)
    assert page.errors == []


def test_a_mistyped_quantity_is_shown_beside_its_field_and_nothing_is_received(
    page: Any, shop: dict[str, str], engine: Engine
) -> None:
    expect: Callable[..., Any] = sync_api.expect
    sign_in(page, "manager")
    page.goto(f"/purchase-orders/{shop['po']}")
    page.get_by_label("Received").first.fill("2O")
    page.get_by_label("Lot").first.fill("L-TYPED")
    page.get_by_role("button", name="Receive").click()
    expect(page.locator("#qty_1-error")).to_contain_text("as a number")
    expect(page.locator("#qty_1")).to_have_value("2O")
    expect(page.locator("#lot_1")).to_have_value("L-TYPED")
    view = purchasing.get_purchase_order(UnitOfWork(engine), shop["po"])
    assert all(ln.received == 0 for ln in view.lines)


def test_a_viewer_on_a_phone_reaches_no_action(page: Any, shop: dict[str, str]) -> None:
    expect: Callable[..., Any] = sync_api.expect
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "viewer")
    page.goto(f"/purchase-orders/{shop['po']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(shop["po"])
    assert page.get_by_role("button", name="Receive").count() == 0
    assert page.get_by_role("button", name="Release to supplier").count() == 0
    # The page fits the phone: nothing wider than the screen but the scrollable tables.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert page.errors == []


AXE = Path(__file__).parent / "assets" / "axe-core" / "axe.min.js"
# Run with the server's pages as they are (no CSP bypass): the script is evaluated through the
# browser's debugging protocol, which a page's script-src does not govern.
AXE_RUN = """async () => {
  const found = await axe.run(document, {resultTypes: ["violations"]});
  return found.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it stands."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    return [v for v in found if v["impact"] in ("serious", "critical")]


def test_the_main_pages_have_no_serious_accessibility_violations(
    page: Any, shop: dict[str, str]
) -> None:
    """axe-core (vendored in tests/e2e/assets, MPL-2.0) on each main page, signed in as an
    owner, and on the sign-in page and a form showing a problem beside its field."""
    page.goto("/login")
    problems = {"/login": serious_violations(page)}
    sign_in(page, "owner")
    for path in (
        "/",
        "/items",
        "/items/MILK",
        "/stock",
        "/stock/count",
        "/stock/move?kind=scrap",
        "/purchase-orders",
        f"/purchase-orders/{shop['po']}",
        "/sales-orders",
        "/sales-orders/new",
        "/plans",
        "/suppliers",
        "/suppliers/MILL",
        "/forecasts",
        "/customers",
    ):
        page.goto(path)
        problems[path] = serious_violations(page)
    page.goto("/stock/move?kind=scrap")
    page.get_by_label("Item SKU").fill("SUGAR")
    page.get_by_label("Quantity").fill("1")
    page.get_by_role("button", name="Scrap").click()
    sync_api.expect(page.locator("#reason-error")).to_contain_text("Choose why")
    problems["/stock/move (refused)"] = serious_violations(page)
    assert {path: found for path, found in problems.items() if found} == {}


def test_the_items_list_sorts_by_keyboard_and_by_its_sort_control(
    page: Any, shop: dict[str, str]
) -> None:
    """Tab to a column's header link and press Enter: the list comes back sorted by it, the
    header says so (aria-sort), and sorting again turns the order round; on a phone, where
    the headers are hidden, the sort control in the filters does the same."""
    sign_in(page, "viewer")
    page.goto("/items?q=u")  # FLOUR and SUGAR
    header = page.get_by_role("link", name="Stock (sort ascending)", exact=True)
    header.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**sort=stock&dir=asc")
    sorted_by = page.locator('th[aria-sort="ascending"]')
    sync_api.expect(sorted_by).to_contain_text("Stock")
    assert page.get_by_label("Search").input_value() == "u"  # the search is kept
    page.get_by_role("link", name="Stock (sorted ascending; sort descending)", exact=True).press(
        "Enter"
    )
    page.wait_for_url("**sort=stock&dir=desc")
    sync_api.expect(page.locator('th[aria-sort="descending"]')).to_contain_text("Stock")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_label("Sort by").select_option("name")
    page.get_by_label("Order").select_option("asc")
    sync_api.expect(page.locator("#results tbody tr").first).to_contain_text("SUGAR")  # Cane
    sync_api.expect(page.locator('th[aria-sort="ascending"]')).to_contain_text("Name")
    assert page.errors == []


def test_the_kpis_page_draws_its_charts_with_no_serious_accessibility_violations(
    page: Any, shop: dict[str, str]
) -> None:
    sign_in(page, "owner")
    page.get_by_role("link", name="KPIs").click()
    page.wait_for_url("**/kpis")
    sync_api.expect(page.locator('.kpi-months[data-ready="1"]')).to_have_count(2)
    sync_api.expect(page.locator(".kpi-months canvas")).to_have_count(2)
    problems = {"/kpis": serious_violations(page)}
    page.get_by_label("Group by", exact=True).select_option("item")
    sync_api.expect(page.locator("#groups")).to_contain_text("MILK")
    sync_api.expect(page.locator('.kpi-months[data-ready="1"]')).to_have_count(2)
    assert page.url.endswith("group_by=item") or "group_by=item" in page.url
    problems["/kpis?group_by=item"] = serious_violations(page)
    screenshot(page, "kpis.png")
    assert {path: found for path, found in problems.items() if found} == {}
    assert page.errors == []
