"""A batch plans its plain documents in memory (`services.stock.planned`); the rules must give
what a single request gives. One case table, posted document by document on one set of items
and as one batch on an identical set, on SQLite and PostgreSQL: the same operations, the same
refusals with the same problems, the same balances per lot. And a batch of plain documents
costs the same number of statements whatever its length."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, event, select

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, LocationKind, Supplier
from leanstock.domain.errors import DomainError
from leanstock.domain.ledger import ShipmentReason
from leanstock.services import catalog, stock
from leanstock.services.stock.batch import (
    Count,
    Document,
    Receipt,
    Shipment,
    Transfer,
    post_batch,
    post_document,
)

TODAY = datetime.now(UTC).date()
PAST = TODAY - timedelta(days=3)
SOON = TODAY + timedelta(days=5)
LATER = TODAY + timedelta(days=40)


def _line(sku: str, quantity: int, **kwargs: Any) -> stock.StockLine:
    return stock.StockLine(sku, Decimal(quantity), **kwargs)


def _set_up(uow: UnitOfWork, prefix: str) -> None:
    """Items P-PLAIN (100 at WH, 10 of them reserved), P-LOTS (lots: one expired, one expiring
    soon, one later, at WH), P-FEW (3 at WH, 2 at STORE) and P-BOX (sold by the case only)."""
    catalog.add_item(uow, Item(f"{prefix}-PLAIN", "Plain"))
    catalog.add_item(uow, Item(f"{prefix}-LOTS", "Dated", lot_tracked=True))
    catalog.add_item(uow, Item(f"{prefix}-FEW", "Few"))
    catalog.add_item(uow, Item(f"{prefix}-BOX", "Case", unit="case", divisible=False))
    stock.receive(uow, f"{prefix}-PLAIN", "WH", Decimal(100))
    stock.reserve(uow, f"{prefix}-PLAIN", "WH", Decimal(10), f"{prefix}-hold")
    for lot, expires_on, quantity in (("OLD", PAST, 4), ("SOON", SOON, 5), ("LATE", LATER, 6)):
        stock.receive(
            uow, f"{prefix}-LOTS", "WH", Decimal(quantity), lot=lot, expires_on=expires_on
        )
    stock.receive(uow, f"{prefix}-FEW", "WH", Decimal(3))
    stock.receive(uow, f"{prefix}-FEW", "STORE", Decimal(2))
    stock.receive(uow, f"{prefix}-BOX", "WH", Decimal(7))


def _cases(p: str) -> list[Document]:
    """Documents for items of prefix `p`; each comment says what a single request answers."""
    return [
        Shipment("WH", [_line(f"{p}-PLAIN", 91)]),  # 409: 90 free (10 reserved)
        Shipment("WH", [_line(f"{p}-PLAIN", 90)], customer="C1", reason=ShipmentReason.SALE),
        Shipment("WH", [_line(f"{p}-PLAIN", 1)]),  # 409: nothing left free
        Receipt("WH", [_line(f"{p}-PLAIN", 5), _line(f"{p}-FEW", 1)], supplier="ACME"),
        Receipt("WH", [_line(f"{p}-FEW", 1)], supplier="NOBODY"),  # 404: no such supplier
        Receipt("WH", [_line(f"{p}-LOTS", 1)]),  # 422: a lot-tracked item needs its lot
        Receipt("WH", [_line(f"{p}-PLAIN", 1), _line(f"{p}-PLAIN", 2)]),  # one SKU, two lines
        Receipt("WH", [_line(f"{p}-PLAIN", 0)]),  # quantity must be positive
        Receipt("supplier", [_line(f"{p}-PLAIN", 1)]),  # a virtual location
        Receipt("NOWHERE", [_line(f"{p}-PLAIN", 1)]),  # 404: no such location
        Shipment("WH", [_line(f"{p}-GHOST", 1)]),  # 404: no such item
        Shipment("WH", [_line(f"{p}-BOX", 1, unit="each")]),  # wrong unit
        Shipment("WH", [_line(f"{p}-BOX", 1, unit="case")]),
        # FEFO: the expired lot is skipped, the one expiring soon goes first.
        Transfer("WH", "STORE", [_line(f"{p}-LOTS", 7)]),
        Shipment("WH", [_line(f"{p}-LOTS", 1, lot="OLD")]),  # the named lot has expired
        Shipment("WH", [_line(f"{p}-LOTS", 5)]),  # 409: 4 usable left at WH
        Shipment("STORE", [_line(f"{p}-LOTS", 6)]),  # the transfer's lots, SOON first
        # The first line would pass; the second fails: nothing of the document is kept.
        Transfer("WH", "STORE", [_line(f"{p}-FEW", 2), _line(f"{p}-PLAIN", 50)]),
        Transfer("WH", "WH", [_line(f"{p}-FEW", 1)]),  # source and target the same
        Count(f"{p}-FEW", "STORE", Decimal(1)),  # posted by its use case between plans
        Transfer("WH", "STORE", [_line(f"{p}-FEW", 5)]),  # 409: 4 at WH
        Transfer("WH", "STORE", [_line(f"{p}-FEW", 4)]),
        Shipment("STORE", [_line(f"{p}-FEW", 6)]),  # 409: the count left 1, and 4 came
        Shipment("STORE", [_line(f"{p}-FEW", 5)]),
        Receipt("STORE", [_line(f"{p}-LOTS", 2, lot="NEW", expires_on=LATER)]),  # by its use case
        Shipment("STORE", [_line(f"{p}-LOTS", 4)]),  # 409: LATE's 1 and NEW's 2 at STORE
    ]


def _outcome(outcome: stock.Operation | DomainError, prefix: str) -> tuple[Any, ...]:
    if isinstance(outcome, DomainError):
        return (
            type(outcome).__name__,
            outcome.detail.replace(f"{prefix}-", "P-"),
            (outcome.field or "").replace(f"{prefix}-", "P-"),
        )
    return (
        outcome.kind,
        outcome.reference,
        [
            (m.sku.replace(f"{prefix}-", "P-"), m.source, m.target, m.quantity, m.lot)
            for m in outcome.moves
        ],
    )


def _balances(engine: Engine, prefix: str) -> dict[tuple[str, str, str], Decimal]:
    with engine.connect() as db:
        rows = db.execute(
            select(t.items.c.sku, t.locations.c.code, t.balances.c.lot, t.balances.c.quantity)
            .join(t.items, t.items.c.id == t.balances.c.item_id)
            .join(t.locations, t.locations.c.id == t.balances.c.location_id)
            .where(t.items.c.sku.like(f"{prefix}-%"))
        ).all()
    return {(sku.replace(f"{prefix}-", "P-"), code, lot): q for sku, code, lot, q in rows if q != 0}


def _shop(uow: UnitOfWork) -> None:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("STORE", "Store", LocationKind.STORE))
    catalog.add_supplier(uow, Supplier("ACME", "Acme"))


def test_a_batch_answers_each_document_as_a_single_request_would(
    uow: UnitOfWork, engine: Engine
) -> None:
    _shop(uow)
    _set_up(uow, "ONE")
    _set_up(uow, "BAT")
    one_by_one = []
    for document in _cases("ONE"):
        try:
            one_by_one.append(_outcome(post_document(uow, document), "ONE"))
        except DomainError as error:
            one_by_one.append(_outcome(error, "ONE"))

    batched = [_outcome(o, "BAT") for o in post_batch(uow, _cases("BAT")).outcomes]

    assert batched == one_by_one
    refused = [o for o in one_by_one if o[0][0].isupper()]
    # The table covers its refusals, not only what passes.
    assert (len(refused), len(one_by_one) - len(refused)) == (17, 9)
    assert _balances(engine, "BAT") == _balances(engine, "ONE")
    assert _balances(engine, "ONE")[("P-LOTS", "STORE", "LATE")] == 1


def test_a_batch_of_plain_documents_costs_the_same_statements_whatever_its_length(
    uow: UnitOfWork, engine: Engine
) -> None:
    _shop(uow)
    _set_up(uow, "A")
    statements: list[str] = []

    def counted(*args: Any) -> None:
        statements.append(args[2])

    def documents(n: int) -> list[Document]:
        kinds: list[Document] = [
            Receipt("WH", [_line("A-PLAIN", 2), _line("A-FEW", 1)], supplier="ACME"),
            Transfer("WH", "STORE", [_line("A-PLAIN", 1), _line("A-FEW", 1)]),
            Shipment("STORE", [_line("A-PLAIN", 1)]),
        ]
        return [kinds[i % 3] for i in range(n)]

    post_batch(uow, documents(3))  # the stock rows at STORE exist from here on
    event.listen(engine, "before_cursor_execute", counted)
    try:
        counts = []
        for n in (3, 60):
            statements.clear()
            result = post_batch(uow, documents(n))
            assert result.refused == 0
            counts.append(len(statements))
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    if engine.dialect.name == "postgresql":
        assert counts[0] == counts[1] < 30
    else:
        # SQLite returns the operations' ids one INSERT at a time: calls in the process, not
        # round trips; everything else is still written once.
        assert counts[1] - counts[0] == 60 - 3
    assert _balances(engine, "A")[("P-PLAIN", "WH", "")] == 100 + 22 * 2 - 22
