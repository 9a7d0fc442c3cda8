"""Batch posting on SQLite and PostgreSQL: documents kept or refused one by one, the virtual
locations written last, and concurrent batches on the same items without deadlock."""

from __future__ import annotations

import random
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, union_all

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain import catalog as places
from leanstock.domain.catalog import Item, Location, LocationKind
from leanstock.domain.errors import DomainError, InvalidInput, OutOfStock
from leanstock.domain.ledger import Place, Posting, ScrapReason
from leanstock.services import catalog, queries, stock
from leanstock.services.stock.batch import (
    MAX_DOCUMENTS,
    MAX_LINES,
    Count,
    Receipt,
    Scrap,
    Shipment,
    Transfer,
    post_batch,
)

SKUS = [f"SKU-{i}" for i in range(8)]


@pytest.fixture
def shop(uow: UnitOfWork) -> UnitOfWork:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("STORE", "Store", LocationKind.STORE))
    for sku in SKUS:
        catalog.add_item(uow, Item(sku, sku))
        stock.receive(uow, sku, "WH", Decimal(100))
    return uow


def _ledger(
    engine: Engine,
) -> tuple[dict[tuple[int, int], Decimal], dict[tuple[int, int], Decimal]]:
    """(balances per item-location incl. the virtual ones, the same summed from the moves)."""
    with engine.connect() as db:
        balances = db.execute(
            select(
                t.balances.c.item_id, t.balances.c.location_id, func.sum(t.balances.c.quantity)
            ).group_by(t.balances.c.item_id, t.balances.c.location_id)
        ).all()
        levels = db.execute(select(t.stock.c.item_id, t.stock.c.location_id, t.stock.c.on_hand))
        legs = union_all(
            select(t.moves.c.item_id, t.moves.c.target_id.label("loc"), t.moves.c.quantity),
            select(t.moves.c.item_id, t.moves.c.source_id.label("loc"), -t.moves.c.quantity),
        ).subquery()
        moved = db.execute(
            select(legs.c.item_id, legs.c.loc, func.sum(legs.c.quantity)).group_by(
                legs.c.item_id, legs.c.loc
            )
        ).all()
        by_lot = {(i, loc): q for i, loc, q in balances if q != 0}
        assert by_lot == {(i, loc): q for i, loc, q in levels if q != 0}
    return by_lot, {(i, loc): q for i, loc, q in moved if q != 0}


def _balanced(engine: Engine) -> None:
    balances, from_moves = _ledger(engine)
    assert balances == from_moves
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for (item_id, _), q in balances.items():
        totals[item_id] += q
    assert set(totals.values()) <= {Decimal(0)}


def _on_hand(uow: UnitOfWork, sku: str, location: str) -> Decimal:
    rows = queries.stock(uow, sku, location).items
    return Decimal(rows[0]["on_hand"]) if rows else Decimal(0)


def test_each_document_is_kept_or_refused_on_its_own_and_the_ledger_balances(
    shop: UnitOfWork, engine: Engine
) -> None:
    line = stock.StockLine
    refused_upfront = InvalidInput("Unknown field 'colour'.", "colour")
    result = post_batch(
        shop,
        [
            Receipt("STORE", [line("SKU-0", Decimal(5)), line("SKU-1", Decimal(2))]),
            Shipment("WH", [line("SKU-2", Decimal(1)), line("SKU-3", Decimal(101))]),
            refused_upfront,
            Transfer("WH", "STORE", [line("SKU-2", Decimal(40))]),
            Count("SKU-2", "STORE", Decimal(38)),
            Scrap("SKU-4", "WH", Decimal(3), ScrapReason.DAMAGE),
            Shipment("STORE", [line("SKU-2", Decimal(39))]),
            Receipt("NOWHERE", [line("SKU-0", Decimal(1))]),
        ],
    )

    outcomes = result.outcomes
    assert [type(o).__name__ for o in outcomes] == [
        "Operation",
        "OutOfStock",
        "InvalidInput",
        "Operation",
        "Operation",
        "Operation",
        "OutOfStock",
        "NotFound",
    ]
    assert (result.posted, result.refused) == (4, 4)
    assert isinstance(outcomes[1], OutOfStock)
    assert outcomes[2] is refused_upfront
    assert isinstance(outcomes[6], OutOfStock)  # the count left 38, not 40, at the store
    assert isinstance(outcomes[7], DomainError)
    assert _on_hand(shop, "SKU-0", "STORE") == 5
    assert _on_hand(shop, "SKU-2", "WH") == 60  # the refused shipment's SKU-2 line undone
    assert _on_hand(shop, "SKU-2", "STORE") == 38
    assert _on_hand(shop, "SKU-3", "WH") == 100
    assert _on_hand(shop, "SKU-4", "WH") == 97
    _balanced(engine)


def test_a_batch_is_refused_whole_when_empty_or_over_the_limit(shop: UnitOfWork) -> None:
    one = Receipt("WH", [stock.StockLine("SKU-0", Decimal(1))])
    wide = Receipt("WH", [stock.StockLine(f"SKU-{i}", Decimal(1)) for i in range(11)])
    for documents in ([], [one] * (MAX_DOCUMENTS + 1), [wide] * (MAX_LINES // 11 + 1)):
        with pytest.raises(InvalidInput) as refused:
            post_batch(shop, documents)
        assert refused.value.field == "documents"
    assert _on_hand(shop, "SKU-0", "WH") == 100


def test_a_rolled_back_document_leaves_nothing_of_its_deferred_virtual_balances(
    shop: UnitOfWork, engine: Engine
) -> None:
    item = shop_item_id(shop, "SKU-5")
    batch = UnitOfWork(engine).batch(virtual_last=True).open()
    wh = _place(batch, "WH")
    supplier = batch.virtual_place(places.SUPPLIER)
    now = datetime.now(UTC)
    with batch:
        batch.ledger.post("receipt", [Posting(item, supplier, wh, Decimal(7))], now)
        # left without commit: this document rolls back
    with batch:
        batch.ledger.post("receipt", [Posting(item, supplier, wh, Decimal(2))], now)
        batch.commit()
    batch.close(keep=True)

    assert _on_hand(shop, "SKU-5", "WH") == 102
    _balanced(engine)


def shop_item_id(uow: UnitOfWork, sku: str) -> int:
    with uow:
        return uow.catalog.item(sku).id


def _place(uow: UnitOfWork, code: str) -> Place:
    stored = uow.catalog.location(code)
    return Place(stored.id, code, stored.value.may_go_negative)


def _batches(client: int) -> list[list[Receipt | Shipment | Transfer]]:
    rng = random.Random(client)
    found = []
    for _ in range(3):
        documents: list[Receipt | Shipment | Transfer] = []
        for _ in range(10):
            skus = rng.sample(SKUS, rng.randint(1, 3))
            lines = [stock.StockLine(s, Decimal(rng.randint(1, 3))) for s in sorted(skus)]
            kind = rng.random()
            if kind < 0.3:
                documents.append(Receipt(rng.choice(["WH", "STORE"]), lines))
            elif kind < 0.6:
                source, target = rng.sample(["WH", "STORE"], 2)
                documents.append(Transfer(source, target, lines))
            else:
                documents.append(Shipment(rng.choice(["WH", "STORE"]), lines))
        found.append(documents)
    return found


def test_concurrent_batches_on_the_same_items_all_finish_and_keep_the_ledger_balanced(
    shop: UnitOfWork, engine: Engine
) -> None:
    def run(client: int) -> tuple[int, int]:
        uow = UnitOfWork(engine)
        posted = refused = 0
        for documents in _batches(client):
            result = post_batch(uow, documents)
            posted += result.posted
            refused += sum(isinstance(o, OutOfStock) for o in result.outcomes)
        return posted, refused

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(run, range(4)))

    # Every document was decided by the ledger's rules: posted, or refused for lack of stock.
    assert sum(p + r for p, r in outcomes) == 4 * 3 * 10
    _balanced(engine)
