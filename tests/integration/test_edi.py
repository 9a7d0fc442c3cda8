"""EDI end to end on SQLite and PostgreSQL: 850 out, 855, 856, receipt, 810 in; each
interchange acknowledged, applied once; malformed ones rejected and nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from conftest import Templates
from edi_documents import acknowledgement, interchange, invoice, ship_notice
from leanstock.adapters.db import edi_tables as e
from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import supplier_tables as s
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.adapters.edi import x12
from leanstock.domain.catalog import Item, Location, Supplier, SupplierItem
from leanstock.domain.edi import InterchangeStatus
from leanstock.domain.errors import NotFound
from leanstock.services import catalog, edi, matching, purchasing, supplier_portal

D = Decimal


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the business (made once per session) for the tests that ask for `business`,
    else an empty database."""
    with templates.for_test(request, db_kind, {"business": ("edi_business", _open)}) as url:
        yield url


@pytest.fixture
def business(uow: UnitOfWork) -> str:
    """ACME (an EDI partner) and RIVAL (not one); a released order of ACME's for cups and
    milk (lot-tracked, perishable): its number."""
    (order,) = purchasing.list_purchase_orders(uow).items
    number: str = order["number"]
    return number


def _open(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Cup"))
    catalog.add_item(uow, Item("MILK", "Milk", unit="l", lot_tracked=True, shelf_life_days=10))
    for code in ("ACME", "RIVAL"):
        catalog.add_supplier(uow, Supplier(code, code.title()))
        catalog.add_supplier_item(uow, SupplierItem(code, "CUP", D("1.5"), 3, supplier_sku="A-CUP"))
    catalog.add_supplier_item(uow, SupplierItem("ACME", "MILK", D("0.9"), 3))
    edi.set_partner(uow, "ACME", "ZZ", "acmeedi", "ACMEEDI")
    lines = [
        purchasing.NewPurchaseLine("CUP", D(10), "WH", expected_date=date(2026, 12, 4)),
        purchasing.NewPurchaseLine("MILK", D(20), "WH", expected_date=date(2026, 12, 4)),
    ]
    order = purchasing.add_to_draft(uow, "ACME", lines)
    purchasing.release(uow, order.number)


def _state(engine: Engine) -> dict[str, Any]:
    """Everything an interchange may change but the log: orders, receipts, invoices, events."""
    with engine.connect() as db:
        return {
            "lines": db.execute(select(o.purchase_lines).order_by(o.purchase_lines.c.id)).all(),
            "orders": db.execute(
                select(o.purchase_orders.c.id, o.purchase_orders.c.status).order_by(
                    o.purchase_orders.c.id
                )
            ).all(),
            "invoices": db.execute(select(func.count()).select_from(s.supplier_invoices)).scalar(),
            "receipts": db.execute(select(func.count()).select_from(o.receipts)).scalar(),
            "events": db.execute(select(func.count()).select_from(o.outbox)).scalar(),
        }


def test_a_purchase_order_goes_round_850_855_856_receipt_810(
    uow: UnitOfWork, business: str
) -> None:
    number = business
    [sent] = edi.outbound(uow)
    assert (sent.supplier, sent.orders) == ("ACME", [number])
    read = x12.read(sent.text)
    assert read.sound
    assert (read.receiver, read.groups[0].functional_id) == ("ACMEEDI", "PO")
    assert edi.outbound(uow) == []  # each order is sent once

    ack = acknowledgement(number, [(1, "CUP", "10", "20261205"), (2, "MILK", "18", "20261206")])
    result = edi.receive(uow, interchange([ack], 1))
    assert result.status is InterchangeStatus.ACCEPTED, result.reasons
    assert "AK5*A~" in result.acknowledgement
    assert "AK9*A*1*1*1~" in result.acknowledgement
    view = purchasing.get_purchase_order(uow, number)
    assert view.status == "acknowledged"
    milk = view.lines[1]
    assert (milk.confirmed_quantity, milk.confirmed_date) == (D(18), date(2026, 12, 6))
    assert (milk.first_confirmed_quantity, milk.first_confirmed_date) == (D(18), date(2026, 12, 6))

    asn = ship_notice(
        number,
        [(1, "CUP", "10", None, None), (2, "MILK", "18", "L7", "20261220")],
        "20261207",
    )
    result = edi.receive(uow, interchange([asn], 2))
    assert result.status is InterchangeStatus.ACCEPTED, result.reasons
    view = purchasing.get_purchase_order(uow, number)
    assert view.status == "shipped"
    assert [(ln.shipped_quantity, ln.confirmed_date) for ln in view.lines] == [
        (D(10), date(2026, 12, 7)),
        (D(18), date(2026, 12, 7)),
    ]
    assert view.lines[1].first_confirmed_date == date(2026, 12, 6)  # the record stays
    assert "MILK lot L7" in result.documents[0]
    [notice] = supplier_portal.channel(uow, number).ship_notices
    assert (notice.carrier, notice.tracking) == ("ACMF", "TRACK-123")
    assert [(ln["line"], ln["lot"], str(ln["expires_on"])) for ln in notice.lines] == [
        (1, None, "None"),
        (2, "L7", "2026-12-20"),
    ]

    receipts = [
        purchasing.ReceiptLine(1, D(8)),
        purchasing.ReceiptLine(2, D(18), lot="L7", expires_on=date(2026, 12, 20)),
    ]
    purchasing.receive(uow, number, receipts)

    # Cups billed 10 at 1.60 (ordered 1.50; 8 came); milk billed as ordered and received.
    bill = invoice(number, "INV-77", [(1, "CUP", "10", "1.60"), (2, "MILK", "18", "0.9")], 3220)
    result = edi.receive(uow, interchange([bill], 3))
    assert result.status is InterchangeStatus.ACCEPTED, result.reasons
    found = matching.variances(uow, supplier="ACME").items
    assert [(v.kind, v.line_no, v.difference, v.amount) for v in found] == [
        ("price", 1, D("0.1"), D("1")),  # (1.60 - 1.50) x 10
        ("quantity", 1, D(2), D("3")),  # (10 invoiced - 8 received) x 1.50
    ]
    assert matching.variances(uow, supplier="ACME", price_tolerance=D("0.1")).total == 1
    purchasing.receive(uow, number, [purchasing.ReceiptLine(1, D(2))])
    assert [v.kind for v in matching.variances(uow).items] == ["price"]  # the rest came

    log = edi.interchanges(uow, supplier="ACME")
    assert [r["status"] for r in log.items] == ["accepted", "accepted", "accepted", "sent"]


def test_an_interchange_sent_again_is_acknowledged_again_and_applied_once(
    uow: UnitOfWork, business: str, engine: Engine
) -> None:
    number = business
    text = interchange([acknowledgement(number, [(1, "CUP", "6", "20261205")])], 9)
    first = edi.receive(uow, text)
    before = _state(engine)
    again = edi.receive(uow, text)
    assert again.status is InterchangeStatus.DUPLICATE
    assert again.acknowledgement == first.acknowledgement
    assert _state(engine) == before
    other = text.replace("PO1*1*6", "PO1*1*7").replace("ACK*IA*6", "ACK*IA*7")
    refused = edi.receive(uow, other)
    assert refused.status is InterchangeStatus.REJECTED
    assert "TA1*000000009*" in refused.acknowledgement
    assert "*R*025~" in refused.acknowledgement
    assert _state(engine) == before


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("SE*6*0001", "SE*7*0001"), "SE count"),
        (("GE*1*4", "GE*1*5"), "GE id"),
        (("IEA*1*000000004", "IEA*1*000000005"), "IEA id"),
        (("*ACMEEDI        *ZZ", "*STRANGER       *ZZ"), "No trading partner"),
        (("*ZZ*LEANSTOCK      *", "*ZZ*SOMEONEELSE    *"), "addressed to"),
        (("PO1*1*6*EA*1.5**BP*CUP", "PO1*1*6*EA*1.5**BP*MILK"), "is CUP, not MILK"),
        (("PO1*1*6", "PO1*9*6"), "has no line 9"),
        (("ACK*IA*6*EA*067*20261205", "ACK*IA*6*EA*068*20261205"), "ACK04"),
    ],
)
def test_a_malformed_interchange_is_rejected_saying_why_and_changes_nothing(
    uow: UnitOfWork, business: str, engine: Engine, change: tuple[str, str], reason: str
) -> None:
    number = business
    text = interchange([acknowledgement(number, [(1, "CUP", "6", "20261205")])], 4)
    assert change[0] in text
    before = _state(engine)
    result = edi.receive(uow, text.replace(change[0], change[1], 1))
    assert result.status is InterchangeStatus.REJECTED
    assert any(reason in r for r in result.reasons), result.reasons
    assert _state(engine) == before
    assert x12.read(result.acknowledgement).groups or "TA1" in result.acknowledgement
    assert "AK9*A" not in result.acknowledgement


def test_each_document_applies_whole_or_not_at_all(uow: UnitOfWork, business: str) -> None:
    number = business
    rival = purchasing.add_to_draft(uow, "RIVAL", [purchasing.NewPurchaseLine("CUP", D(3), "WH")])
    purchasing.release(uow, rival.number)
    good = acknowledgement(number, [(1, "CUP", "10", "20261205")])
    foreign = acknowledgement(rival.number, [(1, "CUP", "3", "20261205")])
    lot_missing = ship_notice(number, [(2, "MILK", "5", None, None)], "20261207")
    result = edi.receive(uow, interchange([good, foreign], 5))
    assert result.status is InterchangeStatus.PARTIAL
    assert "AK9*P*2*2*1~" in result.acknowledgement
    assert any(f"No purchase order {rival.number} exists" in r for r in result.reasons)
    assert purchasing.get_purchase_order(uow, rival.number).status == "released"
    assert purchasing.get_purchase_order(uow, number).status == "acknowledged"
    result = edi.receive(uow, interchange([lot_missing], 6))
    assert result.status is InterchangeStatus.REJECTED
    assert any("MILK is lot-tracked" in r for r in result.reasons)
    assert purchasing.get_purchase_order(uow, number).status == "acknowledged"


def test_a_supplier_user_sends_only_its_own_partners_interchanges(
    uow: UnitOfWork, business: str
) -> None:
    number = business
    text = interchange([acknowledgement(number, [(1, "CUP", "10", "20261205")])], 7)
    with pytest.raises(NotFound, match="No trading partner ZZ:ACMEEDI exists"):
        edi.receive(uow, text, bound_supplier="RIVAL")
    assert edi.receive(uow, text, bound_supplier="ACME").status is InterchangeStatus.ACCEPTED


def test_a_partner_id_belongs_to_one_supplier(uow: UnitOfWork, business: str) -> None:
    with pytest.raises(Exception, match="already the EDI id of supplier ACME"):
        edi.set_partner(uow, "RIVAL", "ZZ", "ACMEEDI", "RIVALEDI")


@pytest.fixture
def api(engine: Engine, client: TestClient) -> TestClient:
    return client


SEGMENTS = st.sampled_from(
    [
        "BAK*00*AC*PO-000001*20261201",
        "PO1*1*10*EA*1.5**BP*CUP",
        "ACK*IA*10*EA*067*20261205",
        "CTT*1",
        "ST*855*0001",
        "SE*6*0001",
        "GE*1*1",
        "IEA*1*000000001",
        "HL*1**S",
        "BIG*x",
        "TDS*-1",
        "PO1*99999999999*1",
        "ACK*IA*1e9",
        "",
        "*",
        "~",
        "\n",
    ]
)


@given(
    st.lists(
        st.one_of(SEGMENTS, st.text(st.characters(max_codepoint=127), max_size=20)), max_size=12
    ),
    st.integers(min_value=0, max_value=400),
)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzzed_interchanges_never_fail_with_a_500_nor_change_anything(
    engine: Engine, business: str, api: TestClient, pieces: list[str], cut: int
) -> None:
    base = interchange([acknowledgement(business, [(1, "CUP", "6", "20261205")])], 11)
    head, body = base[: x12.ISA_LENGTH], base[x12.ISA_LENGTH :]
    fuzzed = head + body[:cut] + "~".join(pieces)
    before = _state(engine)
    response = api.post("/api/v1/edi/inbound", content=fuzzed.encode())
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        status = response.headers["Leanstock-EDI-Status"]
        if status != "accepted":
            assert _state(engine) == before
    else:
        assert _state(engine) == before


def test_the_interchange_log_keeps_the_text_and_the_acknowledgement(
    uow: UnitOfWork, business: str
) -> None:
    number = business
    text = interchange([acknowledgement(number, [(1, "CUP", "10", "20261205")])], 8)
    result = edi.receive(uow, text)
    row = edi.interchange(uow, result.interchange_id)
    assert (row["document"], row["acknowledgement"]) == (text, result.acknowledgement)
    with uow:
        count = uow.connection.execute(select(func.count()).select_from(e.edi_sent_orders))
        assert count.scalar() == 0


def test_an_order_rejected_whole_is_confirmed_at_nothing(uow: UnitOfWork, business: str) -> None:
    number = business
    refused = ("PR", "855", [f"BAK*00*RJ*{number}*20261201"])
    assert edi.receive(uow, interchange([refused], 12)).status is InterchangeStatus.ACCEPTED
    view = purchasing.get_purchase_order(uow, number)
    assert [ln.confirmed_quantity for ln in view.lines] == [D(0), D(0)]


def test_the_same_interchange_sent_four_times_at_once_is_applied_once(
    uow: UnitOfWork, business: str, engine: Engine
) -> None:
    number = business
    text = interchange([acknowledgement(number, [(1, "CUP", "6", "20261205")])], 21)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: edi.receive(UnitOfWork(engine), text), range(4)))
    statuses = sorted(r.status.value for r in results)
    assert statuses == ["accepted", "duplicate", "duplicate", "duplicate"]
    assert len({r.acknowledgement for r in results}) == 1
    with engine.connect() as db:
        acknowledged = db.execute(
            select(func.count())
            .select_from(o.outbox)
            .where(o.outbox.c.subject == number, o.outbox.c.event == "purchase_order.acknowledged")
        ).scalar()
    assert acknowledged == 1
