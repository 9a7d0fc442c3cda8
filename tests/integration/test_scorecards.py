"""Supplier scorecards on deliveries worked out by hand (both databases).

Thirty days ago (day 0, 09:00 UTC) three orders of 10 cups went to ROAST, each asked for by
day 5:

| order | acknowledged          | later promise        | received on day | accepted | rejected |
|-------|-----------------------|----------------------|-----------------|----------|----------|
| 1     | after 24 h: 8 by day 7 | ship notice: day 9   | 9               | 8        | 0        |
| 2     | never                 |                      | 4               | 10       | 0        |
| 3     | after 2 h: 10 by day 6 |                      | 6               | 8        | 2        |

Judged by the date first confirmed (1: day 7, 2: day 5 asked, 3: day 6): 1 late, 2 and 3 on
time = 2/3. By the date asked for (day 5): only 2 = 1/3. In full (accepted ≥ 10): only 2 =
1/3. OTIF: only 2 = 1/3. Lead times 9, 4, 6 days: mean 6.33, sample spread 2.52. Defects 2 of
28 received = 7.14%. Acknowledged 2 of 3 lines, after 24 and 2 hours: median 13; first
confirmed 8 + 10 of 20 ordered = 90%. The ship notice's later date (day 9) must not excuse
order 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import Templates
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Role
from leanstock.domain.catalog import Item, Location, Supplier, SupplierItem
from leanstock.domain.errors import InvalidInput, NotFound
from leanstock.entrypoints.cli import app
from leanstock.services import catalog, purchasing, scorecards
from leanstock.services.purchasing import NewPurchaseLine, ReceiptLine

DAY0 = datetime.now(UTC).date() - timedelta(days=30)
SENT = datetime.combine(DAY0, time(9), UTC)


def _day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def _order(uow: UnitOfWork) -> str:
    view = purchasing.add_to_draft(
        uow, "ROAST", [NewPurchaseLine("CUP", Decimal(10), "WH", expected_date=_day(5))]
    )
    purchasing.release(uow, view.number, at=SENT)
    return view.number


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the template `deliver` wrote (once per session and worker) for the tests that
    ask for `deliveries`."""
    seeds = {"deliveries": ("scorecards_deliveries", lambda engine: deliver(UnitOfWork(engine)))}
    with templates.for_test(request, db_kind, seeds) as url:
        yield url


@pytest.fixture
def deliveries(uow: UnitOfWork) -> UnitOfWork:
    """ROAST's three deliveries worked out by hand, in this test's copy of the template."""
    return uow


def deliver(uow: UnitOfWork) -> None:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Cup", unit_cost=Decimal(1)))
    for code in ("ROAST", "IDLE"):
        catalog.add_supplier(uow, Supplier(code, code.title()))
    catalog.add_supplier_item(uow, SupplierItem("ROAST", "CUP", Decimal(1), 5))
    first = _order(uow)
    purchasing.acknowledge(uow, first, {1: (Decimal(8), _day(7))}, at=SENT + timedelta(hours=24))
    purchasing.ship_notice(uow, first, expected_date=_day(9))
    purchasing.receive(uow, first, [ReceiptLine(1, Decimal(8))], received_on=_day(9))
    second = _order(uow)
    purchasing.receive(uow, second, [ReceiptLine(1, Decimal(10))], received_on=_day(4))
    third = _order(uow)
    purchasing.acknowledge(uow, third, {1: (Decimal(10), _day(6))}, at=SENT + timedelta(hours=2))
    purchasing.receive(
        uow, third, [ReceiptLine(1, Decimal(8), rejected=Decimal(2))], received_on=_day(6)
    )


def test_the_scorecard_judges_by_the_date_first_confirmed(deliveries: UnitOfWork) -> None:
    card = scorecards.scorecard(deliveries, "ROAST")
    f = card.figures
    assert f.deliveries == 3
    assert f.on_time_confirmed == pytest.approx(2 / 3, abs=1e-4)
    assert f.on_time_requested == pytest.approx(1 / 3, abs=1e-4)
    assert f.in_full == pytest.approx(1 / 3, abs=1e-4)
    assert f.otif == pytest.approx(1 / 3, abs=1e-4)
    assert f.lead_time_mean_days == pytest.approx(6.33, abs=0.01)
    assert f.lead_time_sd_days == pytest.approx(2.52, abs=0.01)
    assert f.defect_rate == pytest.approx(2 / 28, abs=1e-4)
    assert (f.lines_ordered, f.lines_acknowledged) == (3, 2)
    assert f.ack_hours_median == pytest.approx(13.0)
    assert f.ack_quantity_fill == pytest.approx(0.9)
    assert card.price_variance is None  # no invoices are recorded yet
    assert card.items[0]["sku"] == "CUP"
    assert card.items[0]["deliveries"] == 3
    assert [m["deliveries"] for m in card.monthly] == [
        sum(1 for d in (_day(9), _day(4), _day(6)) if d.strftime("%Y-%m") == m["month"])
        for m in card.monthly
    ]
    assert card.lead_time_trend_days_per_month is None  # fewer than three months


def test_a_later_promise_does_not_move_the_date_first_confirmed(deliveries: UnitOfWork) -> None:
    line = purchasing.get_purchase_order(deliveries, "PO-000001").lines[0]
    assert line.confirmed_date == _day(9)  # the ship notice's date is the promise now ...
    assert line.first_confirmed_date == _day(7)  # ... but not the record's
    assert line.first_confirmed_quantity == 8
    assert line.acknowledged_at == SENT + timedelta(hours=24)


def test_the_sourcing_record_counts_the_same_otif(deliveries: UnitOfWork) -> None:
    with deliveries:
        record = deliveries.purchasing.supplier_records()["ROAST"]
    assert record.deliveries == 3
    assert record.on_time_in_full == pytest.approx(1 / 3)


def test_three_deliveries_are_too_few_to_judge_but_slow_acknowledgements_are_warned_of(
    deliveries: UnitOfWork,
) -> None:
    strict = scorecards.scorecard(
        deliveries, "ROAST", standard=scorecards.Standard(defect_rate=0.05, ack_hours=12)
    )
    assert not strict.below_standard  # OTIF 33%, defects 7.1%: but 3 < 5 deliveries
    assert strict.reasons == []
    assert strict.warnings == ["acknowledges in 13 hours (median), slower than 12"]
    lenient = scorecards.scorecard(deliveries, "ROAST", standard=scorecards.Standard())
    assert lenient.warnings == []


def test_the_window_counts_only_its_receipts(deliveries: UnitOfWork) -> None:
    card = scorecards.scorecard(deliveries, "ROAST", since=_day(5), until=_day(8))
    assert card.figures.deliveries == 1  # the third order, received on day 6
    assert card.figures.on_time_confirmed == 1.0
    with pytest.raises(InvalidInput, match="swap since and until"):
        scorecards.scorecard(deliveries, "ROAST", since=_day(8), until=_day(5))
    with pytest.raises(NotFound):
        scorecards.scorecard(deliveries, "NOPE")


def test_the_ranking_puts_the_best_first_and_the_unjudged_last(deliveries: UnitOfWork) -> None:
    cards = scorecards.ranking(deliveries)
    assert [c.supplier for c in cards] == ["ROAST", "IDLE"]
    assert cards[1].figures.deliveries == 0
    assert cards[1].figures.otif is None


def test_the_api_serves_scorecards_and_supplier_users_only_their_own(
    deliveries: UnitOfWork, client: TestClient, token_for: Callable[..., str]
) -> None:
    card = client.get("/api/v1/suppliers/ROAST/scorecard").json()
    assert card["figures"]["on_time_confirmed"] == pytest.approx(0.6667)
    ranking = client.get("/api/v1/supplier-scorecards", params={"otif_standard": 0.9}).json()
    assert [c["supplier"] for c in ranking["suppliers"]] == ["ROAST", "IDLE"]
    assert ranking["standard"]["otif"] == 0.9
    assert client.get("/api/v1/suppliers/NOPE/scorecard").status_code == 404
    bad = client.get("/api/v1/suppliers/ROAST/scorecard", params={"since": "2026-02-30"})
    assert bad.status_code == 422
    idle = token_for("idle@example.com", Role.SUPPLIER, supplier="IDLE")
    headers = {"Authorization": f"Bearer {idle}"}
    assert client.get("/api/v1/suppliers/IDLE/scorecard", headers=headers).status_code == 200
    foreign = client.get("/api/v1/suppliers/ROAST/scorecard", headers=headers)
    assert foreign.status_code == 404  # another supplier's answers as a missing one
    assert foreign.json()["detail"] == "No supplier ROAST exists."
    assert client.get("/api/v1/supplier-scorecards", headers=headers).status_code == 403


def test_the_cli_prints_the_scorecard_and_ranking(deliveries: UnitOfWork, db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--database", db_url, "supplier-scorecard", "ROAST"])
    assert result.exit_code == 0, result.output
    assert "66.7%" in result.output  # on time against the date first confirmed
    assert "33.3%" in result.output
    result = runner.invoke(app, ["--database", db_url, "supplier-scorecards"])
    assert result.exit_code == 0, result.output
    assert "ROAST" in result.output
    missing = runner.invoke(app, ["--database", db_url, "supplier-scorecard", "NOPE"])
    assert missing.exit_code == 2
    assert "No supplier NOPE" in missing.output
