"""The company's supplier standard, kept in the database, judges a supplier's scorecard and its
sourcing alike; price variance from supplier invoices. Both databases; figures by hand.

SLOW (priority 1) and FAST (priority 2) both sell CUP. SLOW made five deliveries of orders of
10 released on day 0, asked for by day 12, all on time and in full, received on days 2, 2, 2,
10 and 10 (one with a reject of 1 beside the 10 accepted):

- lead times 2, 2, 2, 10, 10 days: mean 5.2, sample spread √((3·3.2² + 2·4.8²)/4) = √19.2
  = 4.38 days;
- defect rate 1 ÷ 51 received = 1.96%;
- OTIF 5 of 5.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from conftest import Templates
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, Supplier, SupplierItem
from leanstock.domain.errors import Conflict, InvalidInput
from leanstock.entrypoints.cli import app
from leanstock.services import (
    catalog,
    insight,
    invoices,
    pull,
    purchasing,
    scorecards,
    supplier_standard,
)
from leanstock.services.purchasing import NewPurchaseLine, ReceiptLine

D = Decimal
DAY0 = datetime.now(UTC).date() - timedelta(days=60)
SENT = datetime.combine(DAY0, time(9), UTC)


def _day(n: int) -> date:
    return DAY0 + timedelta(days=n)


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the template `deliver` wrote (once per session and worker) for the tests that
    ask for `slow`: five releases and receipts a test would otherwise make again."""
    seeds = {"slow": ("supplier_standard_slow", lambda engine: deliver(UnitOfWork(engine)))}
    with templates.for_test(request, db_kind, seeds) as url:
        yield url


@pytest.fixture
def slow(uow: UnitOfWork) -> UnitOfWork:
    """SLOW's five deliveries (the module's docstring), in this test's copy of the template."""
    return uow


def deliver(uow: UnitOfWork) -> None:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Cup", unit_cost=D(2)))
    catalog.add_item(uow, Item("LID", "Lid", unit_cost=D(5)))
    for code in ("SLOW", "FAST"):
        catalog.add_supplier(uow, Supplier(code, code.title()))
    catalog.add_supplier_item(uow, SupplierItem("SLOW", "CUP", D(2), 3, priority=1))
    catalog.add_supplier_item(uow, SupplierItem("SLOW", "LID", D(5), 3, priority=1))
    catalog.add_supplier_item(uow, SupplierItem("FAST", "CUP", D(3), 3, priority=2))
    for n, received in enumerate((2, 2, 2, 10, 10)):
        view = purchasing.add_to_draft(
            uow, "SLOW", [NewPurchaseLine("CUP", D(10), "WH", expected_date=_day(12))]
        )
        purchasing.release(uow, view.number, at=SENT)
        rejected = D(1) if n == 0 else D(0)
        purchasing.receive(
            uow,
            view.number,
            [ReceiptLine(1, D(10), rejected=rejected)],
            received_on=_day(received),
        )


def _preferred(uow: UnitOfWork) -> tuple[str, str]:
    with uow:
        chosen = pull.preferred_supplier(uow, uow.catalog.item("CUP").id)
    assert chosen is not None
    return chosen.sourcing.supplier, chosen.sourcing.reason


def test_the_sourcing_record_measures_the_spread_and_defects_as_the_scorecard(
    slow: UnitOfWork,
) -> None:
    with slow:
        record = slow.purchasing.supplier_records()["SLOW"]
    assert (record.deliveries, record.on_time_in_full, record.on_time) == (5, 1.0, 1.0)
    assert record.defect_rate == pytest.approx(1 / 51)
    assert record.lead_time_sd_days == pytest.approx(math.sqrt(19.2))
    figures = scorecards.scorecard(slow, "SLOW").figures
    assert figures.lead_time_mean_days == pytest.approx(5.2)
    assert figures.lead_time_sd_days == pytest.approx(4.38, abs=0.005)
    assert figures.defect_rate == pytest.approx(0.0196, abs=1e-4)


def test_below_the_companys_standard_a_supplier_is_flagged_and_its_backup_takes_over(
    slow: UnitOfWork,
) -> None:
    # The default standard judges no spread and allows 2% defects: SLOW is fine.
    assert not scorecards.scorecard(slow, "SLOW").below_standard
    assert _preferred(slow) == ("SLOW", "")

    stored = supplier_standard.set_standard(
        slow, {"lead_time_sd_days": 3, "defect_rate": "0.01"}, actor="owner@example.com"
    )
    assert (stored.lead_time_sd_days, stored.defect_rate, stored.otif) == (3.0, 0.01, 0.85)
    assert supplier_standard.get_standard(slow) == stored
    card = scorecards.scorecard(slow, "SLOW")
    assert card.below_standard
    assert card.reasons == [
        "defect rate 2.0%, above the standard 1.0%",
        "lead time spread 4.4 days, above the standard 3.0",
    ]
    supplier, reason = _preferred(slow)
    assert supplier == "FAST"
    assert reason == (
        "; FAST instead, because SLOW is below the standard: defect rate 2.0%, above the "
        "standard 1.0%, lead time spread 4.4 days, above the standard 3.0"
    )
    ranked = {c.supplier: c for c in scorecards.ranking(slow)}
    assert ranked["SLOW"].reasons == card.reasons
    # Lifting the spread threshold again (null) and the defect one puts SLOW back.
    supplier_standard.set_standard(slow, {"lead_time_sd_days": None, "defect_rate": 0.02})
    assert _preferred(slow) == ("SLOW", "")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"otif": 1.2}, "otif"),
        ({"otif": "lots"}, "otif"),
        ({"on_time": True}, "on_time"),
        ({"lead_time_sd_days": -2}, "lead_time_sd_days"),
        ({"ack_hours": 0}, "ack_hours"),
        ({"speed": 1}, "speed"),
        ({"otif": "nan"}, "otif"),
    ],
)
def test_a_bad_threshold_is_refused_and_the_standard_stays(
    slow: UnitOfWork, changes: dict[str, object], field: str
) -> None:
    before = supplier_standard.get_standard(slow)
    with pytest.raises(InvalidInput) as refused:
        supplier_standard.set_standard(slow, changes)
    assert refused.value.field == field
    assert supplier_standard.get_standard(slow) == before


def test_price_variance_is_invoiced_against_ordered(slow: UnitOfWork) -> None:
    """CUP 10 ordered at 2.00 invoiced at 2.30 (+3.00); LID 4 ordered at 5.00 invoiced at 4.75
    (−1.00): (3 − 1) ÷ (20 + 20) = +5%; per item CUP +3 ÷ 20 = +15%, LID −1 ÷ 20 = −5%."""
    view = purchasing.add_to_draft(
        slow, "SLOW", [NewPurchaseLine("CUP", D(10), "WH"), NewPurchaseLine("LID", D(4), "WH")]
    )
    purchasing.release(slow, view.number)
    today = datetime.now(UTC).date()
    recorded = invoices.record_invoice(
        slow,
        view.number,
        "INV-7",
        [invoices.InvoiceLine(1, D(10), D("2.30")), invoices.InvoiceLine(2, D(4), D("4.75"))],
        invoiced_on=today,
        source="edi",
    )
    assert [(ln["price_variance"], ln["over_received"]) for ln in recorded.lines] == [
        (D("0.30"), True),
        (D("-0.25"), True),
    ]
    card = scorecards.scorecard(slow, "SLOW")
    assert card.price_variance == pytest.approx(0.05)
    assert card.invoiced_lines == 2
    by_item = {i["sku"]: i["price_variance"] for i in card.items}
    assert by_item == {"CUP": pytest.approx(0.15), "LID": pytest.approx(-0.05)}
    assert card.warnings == ["invoices 5.0% over the ordered prices, above the standard 2.0%"]
    assert not card.below_standard  # a warning, not a reason to change supplier
    assert (
        scorecards.scorecard(slow, "SLOW", since=today + timedelta(days=1)).price_variance is None
    )
    # The same invoice again (a re-sent 810) is refused and changes nothing.
    with pytest.raises(Conflict, match="recorded already"):
        invoices.record_invoice(slow, view.number, "INV-7", [invoices.InvoiceLine(1, D(1), D(9))])
    assert scorecards.scorecard(slow, "SLOW").price_variance == pytest.approx(0.05)
    for bad, field in (
        ([invoices.InvoiceLine(9, D(1), D(1))], "line"),
        ([invoices.InvoiceLine(1, D(0), D(1))], "quantity"),
        ([invoices.InvoiceLine(1, D(1), D(-1))], "price"),
        ([], "lines"),
    ):
        with pytest.raises(InvalidInput) as refused:
            invoices.record_invoice(slow, view.number, "INV-8", bad)
        assert refused.value.field == field
    with pytest.raises(InvalidInput):
        invoices.record_invoice(
            slow, view.number, "bad number", [invoices.InvoiceLine(1, D(1), D(1))]
        )
    assert scorecards.scorecard(slow, "SLOW").invoiced_lines == 2


def test_an_owner_sets_the_standard_from_the_cli_and_the_scorecard_shows_the_reasons(
    slow: UnitOfWork, db_url: str
) -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["--database", db_url, "supplier-standard"])
    assert shown.exit_code == 0, shown.output
    assert "not judged" in shown.output  # the spread, by default
    changed = runner.invoke(
        app, ["--database", db_url, "supplier-standard", "--lead-time-sd-days", "3"]
    )
    assert changed.exit_code == 0, changed.output
    assert "3 days" in changed.output
    assert supplier_standard.get_standard(slow).lead_time_sd_days == 3.0
    card = runner.invoke(app, ["--database", db_url, "supplier-scorecard", "SLOW"])
    assert "Below the standard:" in card.output
    assert "lead time spread 4.4 days" in card.output
    refused = runner.invoke(app, ["--database", db_url, "supplier-standard", "--otif", "2"])
    assert refused.exit_code == 2
    assert supplier_standard.get_standard(slow).otif == 0.85


def test_the_readiness_report_judges_suppliers_by_the_companys_standard(slow: UnitOfWork) -> None:
    # A sixth order arrives on day 20, after the day 12 it was asked for: OTIF 5 of 6 (83%).
    view = purchasing.add_to_draft(
        slow, "SLOW", [NewPurchaseLine("CUP", D(10), "WH", expected_date=_day(12))]
    )
    purchasing.release(slow, view.number, at=SENT)
    purchasing.receive(slow, view.number, [ReceiptLine(1, D(10))], received_on=_day(20))

    def reliability() -> tuple[str, bool]:
        report = insight.readiness(slow, datetime.now(UTC).date())
        found = {f.question: f for f in report.findings}["How reliable are the suppliers?"]
        row = {r["supplier"]: r for r in found.details}["SLOW"]
        assert row["on_time_in_full"] == pytest.approx(5 / 6, abs=1e-4)
        return found.figure, row["reliable"]

    figure, reliable = reliability()  # the default standard: 85%
    assert not reliable
    assert "at least 85% of the time: below it SLOW 83%" in figure
    supplier_standard.set_standard(slow, {"otif": 0.8})
    figure, reliable = reliability()
    assert reliable
    assert "1 of 1 suppliers deliver on time in full at least 80% of the time" in figure
