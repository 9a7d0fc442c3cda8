"""Order rules without a database: transitions, MOQ rounding, BOM explosion, promise dates."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from leanstock.domain.errors import InvalidInput, InvalidTransition
from leanstock.domain.orders import (
    BomLine,
    DemandKind,
    Peg,
    PegStatus,
    ProductionOrder,
    ProductionStatus,
    PurchaseLine,
    PurchaseOrder,
    PurchaseStatus,
    SalesLine,
    SalesOrder,
    SalesStatus,
    Supply,
    SupplyKind,
    TransferOrder,
    explode,
    number,
    order_id,
    order_quantity,
    promise_date,
)

D = Decimal
TODAY = date(2026, 3, 2)


def sales(*quantities: int) -> SalesOrder:
    lines = [SalesLine(n, "CUP", "WH", D(q)) for n, q in enumerate(quantities, 1)]
    return SalesOrder("Ann", lines, id=7)


def status_of(order: SalesOrder | PurchaseOrder) -> SalesStatus | PurchaseStatus:
    """The order's status now (read through a call, so mypy does not keep the value an earlier
    assertion narrowed it to across the transitions)."""
    return order.status


def test_order_numbers_round_trip_and_reject_other_kinds() -> None:
    assert number("sales", 42) == "SO-000042"
    assert order_id("sales", "so-000042") == 42
    assert order_id("purchase", "SO-000042") is None
    assert order_id("sales", "SO-x") is None


@pytest.mark.parametrize(
    ("need", "moq", "pack", "expected"),
    [
        ("3", "25", "25", "25"),
        ("26", "25", "25", "50"),
        ("13", "10", "5", "15"),
        ("10", "10", "5", "10"),
        ("2.5", "1", "0.5", "2.5"),
        ("2.6", "1", "0.5", "3.0"),
        ("0", "10", "5", "0"),
    ],
)
def test_order_quantity_respects_moq_then_whole_packs(
    need: str, moq: str, pack: str, expected: str
) -> None:
    assert order_quantity(D(need), D(moq), D(pack)) == D(expected)


def test_a_sales_order_ships_partially_then_fully() -> None:
    order = sales(5, 2)
    order.status = SalesStatus.CONFIRMED
    order.record_shipment(1, D(3))
    assert order.status is SalesStatus.PARTIALLY_SHIPPED
    order.record_shipment(1, D(2))
    order.record_shipment(2, D(2))
    assert status_of(order) is SalesStatus.SHIPPED
    with pytest.raises(InvalidTransition, match="shipped"):
        order.cancel()


def test_a_draft_cannot_ship_and_a_line_cannot_ship_more_than_is_open() -> None:
    order = sales(5)
    with pytest.raises(InvalidTransition, match="draft"):
        order.record_shipment(1, D(1))
    order.confirm()
    order.status = SalesStatus.CONFIRMED
    with pytest.raises(InvalidTransition, match="5 left to ship"):
        order.record_shipment(1, D(6))
    with pytest.raises(InvalidTransition, match="confirmed"):
        order.confirm()


def test_cancelling_keeps_what_has_shipped() -> None:
    order = sales(5, 2)
    order.status = SalesStatus.CONFIRMED
    order.record_shipment(1, D(3))
    dropped = order.cancel()
    assert [ln.line_no for ln in dropped] == [1, 2]
    assert order.lines[0].quantity == 3
    assert order.lines[1].cancelled
    assert order.status is SalesStatus.SHIPPED
    with pytest.raises(InvalidTransition):
        order.cancel()


def test_a_line_cannot_be_reduced_below_what_shipped() -> None:
    order = sales(5)
    order.status = SalesStatus.CONFIRMED
    order.record_shipment(1, D(2))
    with pytest.raises(InvalidTransition, match="shipped 2"):
        order.change_line(1, D(1))
    assert order.change_line(1, D(3)) == -2
    assert order.lines[0].ordered_quantity == 5  # demand at order time stays


def test_a_purchase_order_runs_its_life_cycle() -> None:
    po = PurchaseOrder("MILL", [PurchaseLine(1, "FLOUR", "WH", D(50))], id=3)
    with pytest.raises(InvalidTransition, match="Release it first"):
        po.receive(1, D(1), D(0))
    po.release()
    po.acknowledge({1: (D(40), TODAY)})
    assert (po.lines[0].due, po.lines[0].promised_date) == (D(40), TODAY)
    po.ship({}, TODAY + timedelta(days=1))
    po.receive(1, D(30), D(2))
    assert po.status is PurchaseStatus.PARTIALLY_RECEIVED
    with pytest.raises(InvalidTransition, match="tolerance"):
        po.receive(1, D(13), D(0))
    po.receive(1, D(10), D(0))
    assert status_of(po) is PurchaseStatus.RECEIVED
    with pytest.raises(InvalidTransition, match="Close it instead"):
        po.cancel()
    po.close()
    with pytest.raises(InvalidTransition, match="closed"):
        po.receive(1, D(1), D(0))


def test_only_a_draft_purchase_order_changes_freely() -> None:
    po = PurchaseOrder("MILL", id=1)
    with pytest.raises(InvalidTransition, match="no lines"):
        po.release()
    po.lines.append(PurchaseLine(1, "FLOUR", "WH", D(5)))
    po.release()
    with pytest.raises(InvalidTransition, match="released"):
        po.check_draft()
    po.cancel()
    assert po.status is PurchaseStatus.CANCELLED


def test_bom_gross_requirement_allows_for_scrap() -> None:
    line = BomLine("TOP", "OAK", D(2), D("0.2"))
    assert line.gross(D(3)) == D("7.5")
    assert BomLine("A", "B", D(1), D("0.3")).gross(D(1)) == D("1.428572")
    with pytest.raises(InvalidInput, match="scrap"):
        BomLine("A", "B", D(1), D(1))
    with pytest.raises(InvalidInput, match="itself"):
        BomLine("A", "A", D(1))


def test_a_multi_level_bom_explodes_depth_first_with_scrap_at_each_level() -> None:
    boms = {
        "TABLE": [BomLine("TABLE", "TOP", D(1)), BomLine("TABLE", "LEG", D(4))],
        "TOP": [BomLine("TOP", "OAK", D(2), D("0.2")), BomLine("TOP", "GLUE", D("0.5"))],
        "LEG": [BomLine("LEG", "OAK", D("0.25"), D("0.5"))],
    }
    found = [(r.sku, r.quantity, r.level, r.parent) for r in explode("TABLE", D(2), boms)]
    assert found == [
        ("TOP", D(2), 1, "TABLE"),
        ("OAK", D(5), 2, "TOP"),
        ("GLUE", D(1), 2, "TOP"),
        ("LEG", D(8), 1, "TABLE"),
        ("OAK", D(4), 2, "LEG"),
    ]


def test_a_looping_bom_is_refused() -> None:
    boms = {"A": [BomLine("A", "B", D(1))], "B": [BomLine("B", "A", D(1))]}
    with pytest.raises(InvalidInput, match="loops"):
        explode("A", D(1), boms)


def test_production_runs_released_started_produced_closed() -> None:
    mo = ProductionOrder("CAKE", "WH", D(4), id=1)
    with pytest.raises(InvalidTransition, match="Release it first"):
        mo.start()
    mo.release()
    mo.start()
    with pytest.raises(InvalidTransition, match="close it instead"):
        mo.cancel()
    mo.produce(D(1))
    with pytest.raises(InvalidTransition, match="too many"):
        mo.produce(D(4))
    mo.produce(D(3))
    assert mo.status is ProductionStatus.COMPLETED
    mo.close()


def test_a_transfer_ships_before_it_arrives_and_only_a_draft_cancels() -> None:
    to = TransferOrder("JACKET", "WH", "STORE", D(3), id=1)
    with pytest.raises(InvalidTransition, match="Ship it first"):
        to.receive(D(3))
    to.ship()
    with pytest.raises(InvalidTransition, match="in_transit"):
        to.cancel()
    to.receive(D(3))
    with pytest.raises(InvalidInput, match="two"):
        TransferOrder("JACKET", "WH", "WH", D(1))


def test_the_promise_date_is_the_latest_part_to_be_ready() -> None:
    later = TODAY + timedelta(days=9)
    assert promise_date(TODAY, D(5), D(5), [], None) == TODAY
    assert promise_date(TODAY, D(5), D(2), [Supply(D(3), later)], None) == later
    assert promise_date(TODAY, D(5), D(2), [], 4) == TODAY + timedelta(days=4)
    assert promise_date(TODAY, D(5), D(2), [], None) is None
    assert promise_date(TODAY, D(5), D(5), [], None, requested=later) == later
    assert promise_date(TODAY, D(0), D(0), [], 3) is None
    overdue = TODAY - timedelta(days=2)
    assert promise_date(TODAY, D(1), D(0), [Supply(D(1), overdue)], None) == TODAY


def test_a_peg_is_received_reduced_and_ended_by_its_own_rules() -> None:
    peg = Peg(1, DemandKind.SALES_LINE, 7, SupplyKind.PURCHASE, 3, "SO-000007/1", D(5))
    part = peg.receive(D(2))
    assert (part.received, part.status, part.open) == (D(2), PegStatus.OPEN, D(3))
    assert part.receive(D(3)).status is PegStatus.RECEIVED
    assert part.reduce(D(3)).status is PegStatus.RECEIVED
    assert part.reduce(D(1)).open == D(2)
    assert peg.reduce(D(5)).status is PegStatus.CANCELLED
    ended = part.end()
    assert (ended.quantity, ended.status, ended.open) == (D(2), PegStatus.CANCELLED, D(0))


def test_a_sales_order_records_each_transition_as_an_event_named_for_its_order() -> None:
    order = sales(5, 2)
    order.confirm()
    assert order.status is SalesStatus.CONFIRMED
    order.ship({1: D(3)})
    order.change_line(2, D(4))
    order.cancel("customer left")
    events = order.collect()
    assert [type(e).__name__ for e in events] == [
        "SalesOrderConfirmed",
        "SalesOrderShipped",
        "SalesLineChanged",
        "SalesOrderCancelled",
    ]
    assert {e.subject for e in events} == {"SO-000007"}
    assert [(e.name, e.audit_action) for e in events] == [
        ("sales_order.confirmed", "confirm"),
        ("sales_order.shipped", "ship"),
        ("sales_line.changed", "change_line"),
        ("sales_order.cancelled", "cancel"),
    ]
    assert events[1].payload() == {"lines": {"1": D(3)}, "status": "partially_shipped"}
    assert events[2].payload() == {"line": 2, "quantity": (D(2), D(4))}
    assert events[3].payload() == {"reason": "customer left", "lines": (1, 2)}
    assert order.lines[1].ordered_quantity == 4  # a confirmed order's increase is demand too
    assert order.collect() == []


def test_an_order_placed_and_confirmed_at_once_records_one_event() -> None:
    order = SalesOrder("Ann", [SalesLine(1, "CUP", "WH", D(2))])
    order.place(confirm=True)
    order.id = 3
    (event,) = order.collect()
    assert (event.subject, event.name, event.audit_action) == (
        "SO-000003",
        "sales_order.confirmed",
        "place_and_confirm",
    )
    assert event.changes() == {"customer": "Ann", "lines": [["CUP", D(2)]]}


def test_a_refused_transition_records_nothing() -> None:
    order = sales(5)
    with pytest.raises(InvalidTransition, match="draft"):
        order.ship({1: D(1)})
    assert order.collect() == []
    order.confirm()
    with pytest.raises(InvalidTransition, match="nothing reserved"):
        order.ship({})
    assert [type(e).__name__ for e in order.collect()] == ["SalesOrderConfirmed"]


def test_a_withdrawn_draft_purchase_line_shrinks_and_an_empty_draft_cancels_itself() -> None:
    po = PurchaseOrder("MILL", [PurchaseLine(1, "FLOUR", "WH", D(10))], id=4)
    po.reduce_line(1, D(0))
    assert po.status is PurchaseStatus.CANCELLED
    events = po.collect()
    assert [(e.name, e.audit_action) for e in events] == [
        ("purchase_order.cancelled", None),
        (None, "reduce_draft"),
    ]
    assert events[0].payload() == {"reason": "demand withdrawn"}
    released = PurchaseOrder("MILL", [PurchaseLine(1, "FLOUR", "WH", D(10))], id=5)
    released.release()
    with pytest.raises(InvalidTransition):
        released.reduce_line(1, D(5))
    released.request_change(1, D(5))
    assert released.change_requested
