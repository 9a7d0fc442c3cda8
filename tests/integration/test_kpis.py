"""KPIs on a business worked out by hand (both databases). Now is 1 March 2026, 12:00 UTC;
three months are asked for: January (31 days), February (28), March (1 day so far): 60 days.

CUP (FIFO, category `cups`, the company's holding rate 25%) at WH:
- 1 Jan 12:00 received 10 at 2 from ACME (promised 1 Jan: on time);
- 16 Jan 12:00 received 10 at 3 (promised 10 Jan: late);
- 1 Feb 00:00 shipped 15: cost of goods sold 10 × 2 + 5 × 3 = 35, 5 × 3 = 15 left;
- 15 Feb 00:00 scrapped 1 (spoilage): 3; 4 × 3 = 12 left.
Average value: January (20 × 15 days + 50 × 15.5 days) / 31 = 34.677419; February
(15 × 14 + 12 × 14) / 28 = 13.5; March 12. Carrying cost: January 34.677419 × 0.25 × 31 / 365
= 0.736301, February 13.5 × 0.25 × 28 / 365 = 0.258904, March 12 × 0.25 / 365 = 0.008219.

TEA (category `tea`, its own rate 50%) at STORE: 10 at 1 since 1 Jan 00:00: 10 every month,
carrying 10 × 0.5 × 31 / 365 = 0.424658 in January, 0.383562 in February, 0.013699 in March.

Orders for CUP at WH, placed when 4 are on hand: 20 Jan, 3 (served); 10 Feb, 5 (1 served,
4 short). Fill rate 4 / 8; one line in two in full; one stock-out day (10 Feb).

A weekly forecast (made from history to 12 Jan) said 4 for the week of 19 Jan (3 were asked)
and 2 for the week of 9 Feb (5 asked): WAPE (1 + 3) / 8 = 0.5, bias (6 − 8) / 8 = −0.25.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from conftest import Templates
from leanstock.adapters.db.engine import make_engine
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, LocationKind, Supplier, SupplierItem
from leanstock.domain.errors import InvalidInput, NotFound
from leanstock.domain.ledger import ScrapReason
from leanstock.entrypoints.cli import app
from leanstock.services import catalog, kpis, purchasing, stock
from leanstock.services.kpi_snapshot import refresh_snapshot
from leanstock.services.orders import NewLine, place_order
from leanstock.services.purchasing import NewPurchaseLine, ReceiptLine

D = Decimal
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the business above (built once per session) for the tests that ask for
    `shop`, else an empty database."""
    with templates.for_test(request, db_kind, {"shop": ("kpi_shop", open_the_shop)}) as url:
        yield url


@pytest.fixture
def shop(uow: UnitOfWork) -> UnitOfWork:
    """The business of the module's docstring, no KPI snapshot built yet."""
    return uow


def open_the_shop(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("STORE", "Store", LocationKind.STORE))
    catalog.add_item(uow, Item("CUP", "Cup", unit_cost=D(2), category="cups"))
    catalog.add_item(uow, Item("TEA", "Tea", unit_cost=D(1), category="tea"))
    catalog.add_supplier(uow, Supplier("ACME", "Acme"))
    catalog.add_supplier_item(uow, SupplierItem("ACME", "CUP", D(2), 5))
    for price, promised, received in ((D(2), date(2026, 1, 1), 1), (D(3), date(2026, 1, 10), 16)):
        view = purchasing.add_to_draft(
            uow, "ACME", [NewPurchaseLine("CUP", D(10), "WH", price, expected_date=promised)]
        )
        purchasing.release(uow, view.number, at=_at(1, 1))
        purchasing.receive(
            uow, view.number, [ReceiptLine(1, D(10))], received_on=date(2026, 1, received)
        )
    stock.ship(uow, "CUP", "WH", D(15), occurred_at=_at(2, 1))
    stock.scrap(uow, "CUP", "WH", D(1), ScrapReason.SPOILAGE, occurred_at=_at(2, 15))
    stock.receive(uow, "TEA", "STORE", D(10), unit_cost=D(1), occurred_at=_at(1, 1))
    kpis.set_holding_rate(uow, "50%", "TEA")
    place_order(uow, "Ann", [NewLine("CUP", D(3), "WH")], confirm=True, ordered_at=_at(1, 20, 9))
    place_order(uow, "Bob", [NewLine("CUP", D(5), "WH")], confirm=True, ordered_at=_at(2, 10, 9))
    with uow:
        run = uow.planning.add_forecast_run(
            {
                "freq": "W",
                "horizon": 8,
                "engine": "local",
                "thorough": False,
                "quantiles": [],
                "series": 1,
                "history_from": date(2025, 12, 1),
                "history_to": date(2026, 1, 12),
                "wall_seconds": 0.1,
                "accuracy": {},
            }
        )
        item, wh = uow.catalog.item("CUP").id, uow.catalog.location("WH").id
        uow.planning.add_forecast_values(
            [
                {"run_id": run, "item_id": item, "location_id": wh, "ds": ds, "forecast": f}
                | {"quantiles": {}}
                for ds, f in ((date(2026, 1, 19), 4.0), (date(2026, 2, 9), 2.0))
            ]
        )
        uow.commit()


def test_the_company_kpis_match_the_hand_computed_business(shop: UnitOfWork) -> None:
    report = kpis.kpis(shop, months=3, now=NOW)
    assert (report.since, report.until, report.total) == (date(2026, 1, 1), date(2026, 3, 1), 1)
    (window,) = report.window
    assert window.days == 60
    assert window.stock_value == D("22.00")  # 12 CUP + 10 TEA
    # (34.677419 × 31 + 13.5 × 28 + 12 + 10 × 60) / 60 = 2065 / 60
    assert window.money_tied_up == D("34.42")
    # 0.736301 + 0.258904 + 0.008219 + 0.424658 + 0.383562 + 0.013699
    assert window.carrying_cost == D("1.83")
    assert window.cost_of_goods_sold == D("35.00")
    assert window.turnover == D("6.19")  # 35 / 34.42 × 365 / 60
    assert window.days_of_supply == D("37.7")  # 22 / (35 / 60)
    assert (window.demand, window.filled, window.fill_rate) == (D(8), D(4), D("0.5"))
    assert (window.lines, window.lines_in_full, window.cycle_service) == (2, 1, D("0.5"))
    assert window.stockout_days == 1
    assert window.scrap_by_reason == {"spoilage": D("3.00")}
    assert (window.deliveries, window.late_deliveries, window.late_share) == (2, 1, D("0.5"))
    assert (window.forecasts, window.forecast_total, window.actual_total) == (2, D(6), D(8))
    assert (window.wape, window.bias) == (D("0.5"), D("-0.25"))
    jan, feb, mar = report.history
    assert [m.period for m in report.history] == ["2026-01", "2026-02", "2026-03"]
    assert (jan.money_tied_up, jan.carrying_cost, jan.stock_value) == (
        D("44.68"),
        D("1.16"),
        D("60.00"),
    )
    assert (feb.money_tied_up, feb.cost_of_goods_sold, feb.stock_value) == (
        D("23.50"),
        D("35.00"),
        D("22.00"),
    )
    assert feb.turnover == D("19.41")  # 35 / 23.50 × 365 / 28
    assert feb.days_of_supply == D("17.6")  # 22 / (35 / 28)
    assert (jan.fill_rate, feb.fill_rate, feb.stockout_days) == (D(1), D("0.2"), 1)
    assert (jan.wape, feb.wape) == (D("0.3333"), D("0.6"))
    assert (jan.late_deliveries, feb.deliveries, mar.days) == (1, 0, 1)


def test_kpis_by_item_category_and_location_with_filters(shop: UnitOfWork) -> None:
    by_item = kpis.kpis(shop, group_by="item", months=3, now=NOW)
    assert [f.group for f in by_item.window] == ["CUP", "TEA"]  # most money tied up first
    cup, tea = by_item.window
    assert (cup.money_tied_up, tea.money_tied_up) == (D("24.42"), D("10.00"))
    assert tea.carrying_cost == D("0.82")  # its own 50% a year
    assert tea.fill_rate is None
    assert tea.turnover == D(0)
    by_place = kpis.kpis(shop, group_by="location", months=3, now=NOW)
    assert {f.group: f.stock_value for f in by_place.window} == {"WH": D(12), "STORE": D(10)}
    only = kpis.kpis(shop, group_by="category", months=3, category="tea", now=NOW)
    assert [(f.group, f.stock_value) for f in only.window] == [("tea", D(10))]
    page = kpis.kpis(shop, group_by="item", months=3, limit=1, offset=1, now=NOW)
    assert ([f.group for f in page.window], page.total) == (["TEA"], 2)
    assert [f.group for f in page.history] == ["TEA"] * 3


def test_bad_requests_are_named_and_change_nothing(shop: UnitOfWork) -> None:
    with pytest.raises(InvalidInput, match="group"):
        kpis.kpis(shop, group_by="colour", now=NOW)
    with pytest.raises(InvalidInput, match="months"):
        kpis.kpis(shop, months=0, now=NOW)
    with pytest.raises(NotFound):
        kpis.kpis(shop, sku="NOPE", now=NOW)
    with pytest.raises(InvalidInput, match="holding rate"):
        kpis.set_holding_rate(shop, "lots")
    with pytest.raises(InvalidInput, match="holding rate"):
        kpis.set_holding_rate(shop, "-1")
    assert kpis.kpis(shop, months=3, now=NOW).holding_rate == D("0.25")


def test_the_snapshot_follows_a_new_move(shop: UnitOfWork) -> None:
    before = kpis.kpis(shop, months=3, now=NOW).window[0].stock_value
    stock.receive(shop, "TEA", "STORE", D(5), unit_cost=D(2), occurred_at=_at(2, 20))
    after = kpis.kpis(shop, months=3, now=NOW).window[0].stock_value
    assert (before, after) == (D(22), D(32))
    kpis.set_holding_rate(shop, "company", "TEA")
    assert kpis.kpis(shop, group_by="item", sku="TEA", months=1, now=NOW).window[0].days == 1


def test_the_api_answers_kpis_and_sets_holding_rates(shop: UnitOfWork, client: TestClient) -> None:
    response = client.get("/api/v1/kpis", params={"group_by": "location", "months": 12})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {f["group"]: D(f["stock_value"]) for f in body["window"]} == {"WH": 12, "STORE": 10}
    assert len(body["history"]) == 2 * 12
    assert body["total"] == 2
    for bad in ({"months": 0}, {"months": 37}, {"group_by": "colour"}, {"limit": 0}):
        assert client.get("/api/v1/kpis", params=bad).status_code == 422
    assert client.get("/api/v1/kpis", params={"sku": "NOPE"}).status_code == 404
    put = client.put("/api/v1/settings/holding-rate", json={"rate": "30%"})
    assert (put.status_code, D(put.json()["rate"])) == (200, D("0.3"))
    assert D(client.get("/api/v1/kpis").json()["holding_rate"]) == D("0.3")
    wrong = client.put("/api/v1/settings/holding-rate", json={"rate": "lots"})
    assert wrong.status_code == 422
    assert "holding rate" in wrong.text


def test_the_cli_prints_kpis_and_sets_holding_rates(shop: UnitOfWork, db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--database", db_url, "kpis", "--by", "item", "--history"])
    assert result.exit_code == 0, result.output
    assert "CUP" in result.output
    assert "TEA" in result.output
    shown = runner.invoke(app, ["--database", db_url, "kpis", "--by", "category", "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert {f["group"]: D(f["stock_value"]) for f in data["window"]} == {"cups": 12, "tea": 10}
    rate = runner.invoke(app, ["--database", db_url, "holding-rate", "20%", "--sku", "CUP"])
    assert rate.exit_code == 0, rate.output
    assert "CUP's holding rate: 0.2 a year" in rate.output
    bad = runner.invoke(app, ["--database", db_url, "kpis", "--sku", "NOPE"])
    assert bad.exit_code != 0
    assert "NOPE" in bad.output


def _figures(report: kpis.KpiReport) -> list[kpis.Figures]:
    return report.window + report.history


def _as_rebuilt(uow: UnitOfWork, now: datetime, group_by: str = "item") -> list[kpis.Figures]:
    assert refresh_snapshot(uow, now, force=True) == "rebuilt"
    return _figures(kpis.kpis(uow, group_by=group_by, months=3, now=now))


def test_a_move_after_the_snapshot_extends_it(shop: UnitOfWork) -> None:
    """TEA at STORE takes 5 more at 2 on 1 Mar 03:00 (now is 12:00): March holds 10 for 3 hours
    then 20 for 9, 17.5 on average. The window's money tied up: (2065 − 10 + 17.5) / 60 =
    34.54; its stock value 12 + 20 = 32."""
    assert refresh_snapshot(shop, NOW) == "rebuilt"
    assert refresh_snapshot(shop, NOW) == "fresh"
    stock.receive(shop, "TEA", "STORE", D(5), unit_cost=D(2), occurred_at=_at(3, 1, 3))
    assert refresh_snapshot(shop, NOW) == "extended"
    report = kpis.kpis(shop, months=3, now=NOW)
    (window,) = report.window
    assert (window.stock_value, window.money_tied_up) == (D("32.00"), D("34.54"))
    mar = kpis.kpis(shop, group_by="item", sku="TEA", months=3, now=NOW).history[2]
    assert (mar.money_tied_up, mar.stock_value) == (D("17.50"), D("20.00"))
    extended = _figures(kpis.kpis(shop, group_by="item", months=3, now=NOW))
    assert extended == _as_rebuilt(shop, NOW)


def test_a_move_this_month_counts_to_now(shop: UnitOfWork) -> None:
    """2 CUP scrapped as damaged at WH on 1 Mar 06:00 (now is 12:00): 12 held for 6 hours,
    then 2 × 3 = 6 for 6: March's average 9, scrap 6; the window's stock value 6 + 10 = 16."""
    kpis.kpis(shop, months=3, now=NOW)
    stock.scrap(shop, "CUP", "WH", D(2), ScrapReason.DAMAGE, occurred_at=_at(3, 1, 6))
    assert refresh_snapshot(shop, NOW) == "extended"
    report = kpis.kpis(shop, group_by="item", sku="CUP", months=3, now=NOW)
    mar = report.history[2]
    assert (mar.money_tied_up, mar.scrap_by_reason, mar.stock_value) == (
        D("9.00"),
        {"damage": D("6.00")},
        D("6.00"),
    )
    assert report.window[0].scrap_by_reason == {"damage": D("6.00"), "spoilage": D("3.00")}
    assert kpis.kpis(shop, months=3, now=NOW).window[0].stock_value == D("16.00")
    later = datetime(2026, 3, 1, 18, tzinfo=UTC)  # 6 more hours at 6: (12 × 6 + 6 × 12) / 18
    march = kpis.kpis(shop, group_by="item", sku="CUP", months=1, now=later).window[0]
    assert march.money_tied_up == D("8.00")
    assert refresh_snapshot(shop, later) == "fresh"


def test_a_new_month_rolls_the_snapshot_over(shop: UnitOfWork) -> None:
    """Built on 1 March; asked again on 15 April after a receipt of 5 TEA at 1 on 10 April:
    March closes at CUP 12 and TEA 10 all month; April holds 10 TEA for 9 days, then 15."""
    kpis.kpis(shop, months=3, now=NOW)
    april = datetime(2026, 4, 15, tzinfo=UTC)
    stock.receive(shop, "TEA", "STORE", D(5), unit_cost=D(1), occurred_at=_at(4, 10))
    assert refresh_snapshot(shop, april) == "extended"
    report = kpis.kpis(shop, group_by="item", months=2, now=april)
    assert [f.period for f in report.history[:2]] == ["2026-03", "2026-04"]
    by = {(f.group, f.period): f for f in report.history}
    assert by[("CUP", "2026-03")].money_tied_up == D("12.00")
    assert by[("TEA", "2026-03")].money_tied_up == D("10.00")
    # 10 × 9 days + 15 × 5 days over the 14 days to now
    assert by[("TEA", "2026-04")].money_tied_up == D("11.79")
    assert _figures(kpis.kpis(shop, group_by="item", months=3, now=april)) == _as_rebuilt(
        shop, april
    )


def test_a_backdated_move_rebuilds_the_snapshot(shop: UnitOfWork) -> None:
    """A receipt of 10 CUP at 1 on 10 Jan sorts before later moves: FIFO then ships it on 1
    Feb, so February's cost of goods sold changes (10 × 2 + 5 × 1 = 25): only a replay from
    the start knows."""
    kpis.kpis(shop, months=3, now=NOW)
    stock.receive(shop, "CUP", "WH", D(10), unit_cost=D(1), occurred_at=_at(1, 10))
    assert refresh_snapshot(shop, NOW) == "rebuilt"
    feb = kpis.kpis(shop, group_by="item", sku="CUP", months=3, now=NOW).history[1]
    assert feb.cost_of_goods_sold == D("25.00")


def test_a_move_in_a_month_already_rolled_over_rebuilds_the_snapshot(shop: UnitOfWork) -> None:
    """TEA takes 5 more at 2 on 20 Feb, after the last move (15 Feb) but in February, which the
    snapshot closed on 1 March: 10 for 19 days and 20 for 9, (190 + 180) / 28 = 13.21; the
    window's money tied up (2065 + 10 × 9 + 10 × 1) / 60 = 36.08."""
    kpis.kpis(shop, months=3, now=NOW)
    stock.receive(shop, "TEA", "STORE", D(5), unit_cost=D(2), occurred_at=_at(2, 20))
    assert refresh_snapshot(shop, NOW) == "rebuilt"
    feb = kpis.kpis(shop, group_by="item", sku="TEA", months=3, now=NOW).history[1]
    assert feb.money_tied_up == D("13.21")
    assert kpis.kpis(shop, months=3, now=NOW).window[0].money_tied_up == D("36.08")


def test_a_move_committed_under_an_older_id_rebuilds_the_snapshot(shop: UnitOfWork) -> None:
    """Seen as the watermark counting fewer moves up to its id than there are."""
    kpis.kpis(shop, months=3, now=NOW)
    with shop:
        state = shop.kpis.snapshot_state(lock=True)
        assert state is not None
        shop.kpis.put_snapshot_state(state | {"count": state["count"] - 1})
        shop.commit()
    assert refresh_snapshot(shop, NOW) == "rebuilt"
    assert refresh_snapshot(shop, NOW) == "fresh"


def test_reports_at_once_after_a_move_extend_the_snapshot_once(
    shop: UnitOfWork, db_url: str
) -> None:
    """Four reports at once after a move (the receipt of the first test): each waits for the
    one refresh that holds the snapshot's lock, then finds it fresh; all answer 32."""
    kpis.kpis(shop, months=3, now=NOW)
    stock.receive(shop, "TEA", "STORE", D(5), unit_cost=D(2), occurred_at=_at(3, 1, 3))
    engine = make_engine(db_url)
    values: list[Decimal] = []
    failures: list[BaseException] = []

    def report() -> None:
        try:
            values.append(kpis.kpis(UnitOfWork(engine), months=3, now=NOW).window[0].stock_value)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=report) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert failures == []
    assert values == [D("32.00")] * 4
    assert refresh_snapshot(shop, NOW) == "fresh"
