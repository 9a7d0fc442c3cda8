"""A batch plans its plain documents in memory (`services.stock.planned`); the rules must give
what a single request gives. One case table, posted document by document on one set of items
and as one batch on an identical set, on SQLite and PostgreSQL: the same operations, the same
refusals with the same problems, the same balances per lot. And a batch of plain documents
costs the same number of statements whatever its length.

The same table holds the one-step posting of PostgreSQL (`leanstock_post_document`, the rules
in SQL, `services.stock.direct`) to the rules in Python: posted with it and without it, on
each database, the answers, the problems and the balances must be the same, and the same
literal table on both databases. Receipts naming lots and scraps have cases of their own
(migration 0026), with the lots registered and the operations' reasons and notes compared
too."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, or_, select

from leanstock.adapters.db import order_tables
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.ledger import LedgerRepository
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, LocationKind, Supplier
from leanstock.domain.errors import DomainError
from leanstock.domain.ledger import ScrapReason, ShipmentReason
from leanstock.services import catalog, orders, stock
from leanstock.services.stock.batch import (
    Count,
    Document,
    Receipt,
    Scrap,
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


def _set_up_more(uow: UnitOfWork, prefix: str) -> None:
    """P-DATED: 4 at WH received now and 1 dated two minutes from now (a move dated after
    now, which the history check must trace)."""
    catalog.add_item(uow, Item(f"{prefix}-DATED", "Dated ahead"))
    stock.receive(uow, f"{prefix}-DATED", "WH", Decimal(4))
    ahead = datetime.now(UTC) + timedelta(minutes=2)
    stock.receive(uow, f"{prefix}-DATED", "WH", Decimal(1), occurred_at=ahead)


def _more_cases(p: str) -> list[Document]:
    """After `_cases`: what the one-step posting decides on its own (named lots, a location
    allowed to go negative, several lines of one location) and what it must leave to the
    rules in Python (the history check, the supplier named first)."""
    return [
        # Two named lots of one item on one shipment; the second line takes what the first left.
        Shipment("WH", [_line(f"{p}-LOTS", 1, lot="LATE"), _line(f"{p}-PLAIN", 3)]),
        Shipment("STORE", [_line(f"{p}-LOTS", 1, lot="LATE"), _line(f"{p}-LOTS", 1, lot="NEW")]),
        Shipment("WH", [_line(f"{p}-LOTS", 9, lot="LATE")]),  # 409: the named lot is short
        Shipment("WH", [_line(f"{p}-LOTS", 1, lot="NONE")]),  # 409: a lot not held here
        Shipment("WH", [_line(f"{p}-LOTS", 1, lot="OLD")]),  # 409: the named lot has expired
        # A location allowed to go below zero: it takes what it has, then goes negative.
        Transfer("WH", "NEG", [_line(f"{p}-PLAIN", 1)]),
        Shipment("NEG", [_line(f"{p}-FEW", 3), _line(f"{p}-PLAIN", 2)], customer="C2"),
        Transfer("NEG", "WH", [_line(f"{p}-LOTS", 2)]),
        Receipt("NEG", [_line(f"{p}-FEW", 4), _line(f"{p}-PLAIN", 2)], reference="R-9"),
        Shipment("WH", [_line(f"{p}-DATED", 1)]),  # a move dated after now: Python's check
        Shipment("WH", [_line(f"{p}-DATED", 4)]),  # 409: 3 there now, the 4th comes later
        Shipment("WH", [_line(f"{p}-DATED", 9)]),  # 409: 4 on hand
        Receipt("WH", [_line(f"{p}-FEW", 1)], supplier="NOBODY"),  # 404, after the step
        Receipt("WH", [_line(f"{p}-GHOST", 1)], supplier="NOBODY"),  # the supplier first
        Shipment("WH", [_line(f"{p}-PLAIN", 1)]),
    ]


def _set_up_lots(uow: UnitOfWork, prefix: str) -> None:
    """P-FRESH: lot-tracked with a shelf life of 10 days, nothing in stock; P-BACK: none in
    stock, 2 backordered at WH by a confirmed sales order."""
    catalog.add_item(uow, Item(f"{prefix}-FRESH", "Fresh", lot_tracked=True, shelf_life_days=10))
    catalog.add_item(uow, Item(f"{prefix}-BACK", "Wanted"))
    wanted = [orders.NewLine(f"{prefix}-BACK", Decimal(2), "WH")]
    assert orders.place_order(uow, "Ann", wanted, confirm=True).lines[0].fulfilment == "backorder"


def _lot_and_scrap_cases(p: str) -> list[Document]:
    """After `_more_cases`: receipts naming lots (migration 0026's step registers a new lot and
    checks a known one's expiry) and scraps (reservations not checked, a named lot taken even
    expired, FEFO otherwise)."""
    dropped = ScrapReason.DAMAGE
    return [
        Receipt("WH", [_line(f"{p}-LOTS", 3, lot="FRESH", expires_on=LATER)], supplier="ACME"),
        Receipt("WH", [_line(f"{p}-LOTS", 2, lot="FRESH")]),  # known: keeps its expiry
        Receipt("WH", [_line(f"{p}-LOTS", 1, lot="FRESH", expires_on=SOON)]),  # 422: LATER
        Receipt("WH", [_line(f"{p}-LOTS", 1, lot="FRESH", expires_on=LATER)], reference="R-2"),
        Receipt("WH", [_line(f"{p}-PLAIN", 1, expires_on=LATER)]),  # 422: the date needs a lot
        # An expired lot may still arrive; a lot on an item that is not lot-tracked may not.
        Receipt("WH", [_line(f"{p}-LOTS", 1, lot="OLD"), _line(f"{p}-FRESH", 2, lot="B0")]),
        Receipt("WH", [_line(f"{p}-FEW", 2, lot="F1")]),
        Receipt("WH", [_line(f"{p}-FRESH", 4, lot="B1")]),  # registered: today + 10 days
        Receipt("STORE", [_line(f"{p}-FRESH", 2, lot="B2", expires_on=SOON)]),
        # The second line is refused: the first line's new lot B9 is not registered either.
        Receipt(
            "WH",
            [_line(f"{p}-FRESH", 1, lot="B9"), _line(f"{p}-LOTS", 1, lot="FRESH", expires_on=SOON)],
        ),
        Receipt("WH", [_line(f"{p}-FRESH", 1, lot="B3")], supplier="NOBODY"),  # 404
        Receipt("WH", [_line(f"{p}-FRESH", 1)]),  # 422: a lot-tracked item needs its lot
        Shipment("WH", [_line(f"{p}-LOTS", 5)]),  # FEFO over the lots received
        # Scraps: reservations do not hold stock back from the scrap.
        Scrap(f"{p}-PLAIN", "WH", Decimal(2), dropped, note="dropped", reference="S-1"),
        Scrap(f"{p}-LOTS", "WH", Decimal(2), ScrapReason.EXPIRY, lot="OLD"),  # expired: allowed
        Scrap(f"{p}-LOTS", "WH", Decimal(99), ScrapReason.EXPIRY, lot="OLD"),  # 409: 3 in OLD
        Scrap(f"{p}-LOTS", "WH", Decimal(1), ScrapReason.QUALITY, lot="GONE"),  # 409: none
        Scrap(f"{p}-LOTS", "WH", Decimal(3), ScrapReason.SPOILAGE),  # FEFO, not the expired
        Scrap(f"{p}-FRESH", "WH", Decimal(50), ScrapReason.SPOILAGE),  # 409: 4 held
        Scrap(f"{p}-FEW", "NEG", Decimal(5), dropped),  # a location allowed to go negative
        Scrap(f"{p}-DATED", "WH", Decimal(1), dropped),  # a move dated after now: Python's
        Scrap(f"{p}-GHOST", "WH", Decimal(1), dropped),  # 404
        Scrap(f"{p}-BOX", "WH", Decimal(1), dropped, unit="each"),  # wrong unit
        Scrap(f"{p}-BOX", "WH", Decimal(1), dropped, unit="case", note="crushed"),
    ]


def _count_cases(p: str) -> list[Document]:
    """After `_lot_and_scrap_cases`: counts (migration 0026's step compares with the books and
    posts the difference), gains, losses, a match, lots new and expired, units, costs."""
    return [
        Count(f"{p}-PLAIN", "WH", Decimal(12), reference="C-1"),  # 8 booked: a gain of 4
        Count(f"{p}-PLAIN", "WH", Decimal(5)),  # a loss of 7
        Count(f"{p}-PLAIN", "WH", Decimal(5)),  # matches: posts nothing
        Count(f"{p}-LOTS", "WH", Decimal(1), lot="OLD"),  # the expired lot counted down
        Count(f"{p}-LOTS", "WH", Decimal(3), lot="NEWC", expires_on=LATER),  # a new lot
        Count(f"{p}-LOTS", "WH", Decimal(3)),  # 422: a lot-tracked item is counted by lot
        Count(f"{p}-DATED", "WH", Decimal(2)),  # a move dated after now: Python's books
        Count(f"{p}-FEW", "NEG", Decimal(0)),  # below zero, counted 0: a gain
        Count(f"{p}-BOX", "WH", Decimal(2), unit="case"),
        Count(f"{p}-BOX", "WH", Decimal(1), unit="each"),  # wrong unit
        Count(f"{p}-PLAIN", "STORE", Decimal(3), unit_cost=Decimal("2.5")),  # at its cost
        Count(f"{p}-GHOST", "WH", Decimal(1)),  # 404
        Count(f"{p}-BACK", "WH", Decimal(5)),  # a gain where a backorder waits: Python fills it
    ]


# What every document of the table gives, on both databases: its kind or its problem.
EXPECTED = [
    *["OutOfStock", "shipment", "OutOfStock", "receipt", "NotFound", "LotRequired"],
    *["InvalidInput", "InvalidQuantity", "InvalidInput", "NotFound", "NotFound", "NoConversion"],
    *["shipment", "transfer", "LotExpired", "OutOfStock", "shipment", "OutOfStock"],
    *["InvalidInput", "adjustment", "OutOfStock", "transfer", "OutOfStock", "shipment"],
    *["receipt", "OutOfStock"],
    *["shipment", "shipment", "OutOfStock", "OutOfStock", "LotExpired", "transfer", "shipment"],
    *["transfer", "receipt", "shipment", "PastShortfall", "OutOfStock", "NotFound", "NotFound"],
    "shipment",
    *["receipt", "receipt", "InvalidInput", "receipt", "InvalidInput", "receipt"],
    *["LotNotTracked", "receipt", "receipt", "InvalidInput", "NotFound", "LotRequired"],
    "shipment",
    *["scrap", "scrap", "OutOfStock", "OutOfStock", "scrap", "OutOfStock", "scrap", "scrap"],
    *["NotFound", "NoConversion", "scrap"],
    *["adjustment", "adjustment", "adjustment", "adjustment", "adjustment", "LotRequired"],
    *["adjustment", "adjustment", "adjustment", "NoConversion", "adjustment", "NotFound"],
    "adjustment",
]
# On PostgreSQL, what the one-step posting said to each document it was given (True: posted,
# False: declined, and the rules in Python answered): it posts every plain document the rules
# post, except where another rule must run (P-DATED's history check, an unknown supplier),
# and declines every one they refuse for want of stock or for a known lot's other expiry date.
# Documents refused before it (unknown names, units, quantities, a lot missing or not
# allowed) never reach it.
EXPECTED_STEPS: list[list[bool]] = [
    *[[False], [True], [False], [True], [False], []],
    *[[], [], [], [], [], []],
    *[[True], [True], [False], [False], [True], [False]],
    *[[], [True], [False], [True], [False], [True]],
    *[[True], [False]],
    *[[True], [True], [False], [False], [False], [True], [True]],
    *[[True], [True], [False], [False], [False], [False], []],
    [True],
    *[[True], [True], [False], [True], [], [True]],
    *[[], [True], [True], [False], [False], []],
    [True],
    *[[True], [True], [False], [False], [True], [False], [True], [False]],
    *[[], [], [True]],
    *[[True], [True], [True], [True], [True], []],
    *[[False], [True], [True], [], [True], []],
    [False],
]


def _lots(engine: Engine, prefix: str) -> dict[tuple[str, str], Any]:
    """The lots registered, with their expiry dates."""
    with engine.connect() as db:
        rows = db.execute(
            select(t.items.c.sku, t.lots.c.code, t.lots.c.expires_on)
            .join(t.items, t.items.c.id == t.lots.c.item_id)
            .where(t.items.c.sku.like(f"{prefix}-%"))
        ).all()
    return {(sku.replace(f"{prefix}-", "P-"), code): expires_on for sku, code, expires_on in rows}


def _operations(engine: Engine, prefix: str) -> list[tuple[Any, ...]]:
    """The operations that moved the items, in order, with their partner, reason and note."""
    o = t.operations
    with engine.connect() as db:
        rows = db.execute(
            select(o.c.id, o.c.kind, o.c.reference, o.c.partner, o.c.reason, o.c.note)
            .distinct()
            .join(t.moves, t.moves.c.operation_id == o.c.id)
            .join(t.items, t.items.c.id == t.moves.c.item_id)
            .where(t.items.c.sku.like(f"{prefix}-%"))
            .order_by(o.c.id)
        ).all()
    return [tuple(row[1:]) for row in rows]


def _moves(engine: Engine, prefix: str) -> list[tuple[Any, ...]]:
    """Every move of the items, in order: item, lot, quantity, cost."""
    m = t.moves.c
    with engine.connect() as db:
        rows = db.execute(
            select(t.items.c.sku, m.lot, m.quantity, m.unit_cost)
            .join(t.items, t.items.c.id == m.item_id)
            .where(t.items.c.sku.like(f"{prefix}-%"))
            .order_by(m.id)
        ).all()
    return [(sku.replace(f"{prefix}-", "P-"), *rest) for sku, *rest in rows]


def _audits(engine: Engine, prefix: str) -> list[tuple[str, str, str]]:
    """The audit records of the items' counts: action, subject kind, what they recorded."""
    a = order_tables.audit_log.c
    with engine.connect() as db:
        rows = db.execute(
            select(a.action, a.subject, a.changes)
            .where(
                or_(a.changes.like(f"%{prefix}-%"), a.subject.like(f"%{prefix}-%")),
                a.action == "count",
            )
            .order_by(a.id)
        ).all()
    return [
        (action, subject.split(":")[0], changes.replace(f"{prefix}-", "P-"))
        for action, subject, changes in rows
    ]


def _answer(outcome: stock.Operation | DomainError, prefix: str) -> tuple[Any, ...]:
    """`_outcome`, with the moves' quantities as written (3, not 3.000000). A problem's time
    of day (P-DATED's, dated now) is left out: the two runs may fall in different minutes."""
    found = _outcome(outcome, prefix)
    if isinstance(outcome, DomainError):
        return (found[0], re.sub(r"\d\d:\d\d", "hh:mm", found[1]), found[2])
    return (*found[:2], [(*move[:3], str(move[3]), move[4]) for move in found[2]])


def test_the_one_step_posting_answers_as_the_rules_in_python_do(
    uow: UnitOfWork, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shop(uow)
    catalog.add_location(uow, Location("NEG", "Pop-up", LocationKind.STORE, allow_negative=True))
    for prefix in ("SQL", "PY"):
        _set_up(uow, prefix)
        _set_up_more(uow, prefix)
        _set_up_lots(uow, prefix)
    verdicts: list[bool] = []
    step = LedgerRepository.post_document

    def told(self: LedgerRepository, document: Any) -> Any:
        posted = step(self, document)
        verdicts.append(posted is not None)
        return posted

    monkeypatch.setattr(LedgerRepository, "post_document", told)

    def run(prefix: str) -> tuple[list[tuple[Any, ...]], list[list[bool]]]:
        answers, steps = [], []
        documents = _cases(prefix) + _more_cases(prefix) + _lot_and_scrap_cases(prefix)
        for document in documents + _count_cases(prefix):
            verdicts.clear()
            try:
                answers.append(_answer(post_document(uow, document), prefix))
            except DomainError as error:
                answers.append(_answer(error, prefix))
            steps.append(list(verdicts))
        return answers, steps

    one_step, steps = run("SQL")
    monkeypatch.setattr(LedgerRepository, "posts_in_one_step", lambda self: False)
    in_python, none = run("PY")

    assert one_step == in_python
    assert _balances(engine, "SQL") == _balances(engine, "PY")
    assert _lots(engine, "SQL") == _lots(engine, "PY")
    assert _operations(engine, "SQL") == _operations(engine, "PY")
    assert _moves(engine, "SQL") == _moves(engine, "PY")
    assert _audits(engine, "SQL") == _audits(engine, "PY")
    assert [answer[0] for answer in one_step] == EXPECTED
    assert not any(none)
    if engine.dialect.name == "postgresql":
        assert steps == EXPECTED_STEPS
    else:
        assert not any(steps)  # SQLite has no one-step posting: the rules in Python
    balances = _balances(engine, "SQL")
    # NEG: PLAIN 1 in, 2 out (below zero), 2 in; FEW 3 out of nothing, 4 in, 5 scrapped,
    # counted 0; LOTS 2 out of nothing, untracked.
    neg = [balances.get((sku, "NEG", ""), 0) for sku in ("P-PLAIN", "P-FEW", "P-LOTS")]
    assert neg == [1, 0, -2]
    lots = _lots(engine, "SQL")
    # A new lot gets the date given, or today + its shelf life; a refused receipt's new lot
    # (B9, on its first line) is not registered.
    assert lots[("P-LOTS", "FRESH")] == LATER
    assert lots[("P-FRESH", "B1")] == TODAY + timedelta(days=10)
    assert ("P-FRESH", "B9") not in lots
    assert ("scrap", "S-1", None, "damage", "dropped") in _operations(engine, "SQL")
    assert lots[("P-LOTS", "NEWC")] == LATER
    # The count's gain filled the backorder: 2 of the 5 reserved for it.
    with engine.connect() as db:
        reserved = db.execute(
            select(t.stock.c.reserved)
            .join(t.items, t.items.c.id == t.stock.c.item_id)
            .join(t.locations, t.locations.c.id == t.stock.c.location_id)
            .where(t.items.c.sku == "SQL-BACK", t.locations.c.code == "WH")
        ).scalar_one()
    assert reserved == 2
    audits = _audits(engine, "SQL")
    # Every count is audited with the books it found; one that matched names the stock, as
    # it posted no operation (P-PLAIN at WH; P-DATED, by the books of its moment, in Python).
    assert len(audits) == 11
    assert [a for a in audits if a[1] == "stock"] == [
        ("count", "stock", '{"moves": [], "on_hand": ["5", "5"]}'),
        ("count", "stock", '{"moves": [], "on_hand": ["2", "2"]}'),
    ]
