"""Property: whatever operations run, dated now or backdated, the ledger stays balanced, agrees
with a simple model, and no physical balance is negative at any moment of history."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import Engine, func, select, union_all

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, LocationKind
from leanstock.domain.errors import OutOfStock
from leanstock.domain.history import PastShortfall
from leanstock.domain.ledger import ScrapReason
from leanstock.services import catalog, queries, stock

quantities = st.integers(min_value=1, max_value=40).map(Decimal) | st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal(20), places=3
)


def ledger_state(engine: Engine, skus: list[str]) -> tuple[dict[tuple[str, str], Decimal], ...]:
    """(balances per item-location, the same summed from moves, totals per item)."""
    with engine.connect() as db:
        items = t.items.alias()
        balance_rows = db.execute(
            select(items.c.sku, t.locations.c.code, func.sum(t.balances.c.quantity))
            .join(items, items.c.id == t.balances.c.item_id)
            .join(t.locations, t.locations.c.id == t.balances.c.location_id)
            .where(items.c.sku.in_(skus))
            .group_by(items.c.sku, t.locations.c.code)
        ).all()
        legs = union_all(
            select(t.moves.c.item_id, t.moves.c.target_id.label("loc"), t.moves.c.quantity),
            select(t.moves.c.item_id, t.moves.c.source_id.label("loc"), -t.moves.c.quantity),
        ).subquery()
        move_rows = db.execute(
            select(items.c.sku, t.locations.c.code, func.sum(legs.c.quantity))
            .join(items, items.c.id == legs.c.item_id)
            .join(t.locations, t.locations.c.id == legs.c.loc)
            .where(items.c.sku.in_(skus))
            .group_by(items.c.sku, t.locations.c.code)
        ).all()
    balances = {(s, c): q for s, c, q in balance_rows if q != 0}
    from_moves = {(s, c): q for s, c, q in move_rows if q != 0}
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (sku, _), q in balances.items():
        totals[(sku, "*")] += q
    return balances, from_moves, dict(totals)


class Ledger(RuleBasedStateMachine):
    engine: Engine

    def __init__(self) -> None:
        super().__init__()
        self.uow = UnitOfWork(self.engine)
        tag = uuid.uuid4().hex[:8]
        self.locations = [f"A-{tag}", f"B-{tag}"]
        self.skus = [f"PLAIN-{tag}", f"LOT-{tag}"]
        catalog.add_location(self.uow, Location(self.locations[0], "A"))
        catalog.add_location(self.uow, Location(self.locations[1], "B", LocationKind.STORE))
        catalog.add_item(self.uow, Item(self.skus[0], "Plain", unit="kg"))
        catalog.add_item(self.uow, Item(self.skus[1], "Lotted", unit="kg", lot_tracked=True))
        self.on_hand: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        self.reserved: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        self.open: dict[int, tuple[str, str, Decimal]] = {}

    def available(self, key: tuple[str, str]) -> Decimal:
        return self.on_hand[key] - self.reserved[key]

    @rule(item=st.integers(0, 1), loc=st.integers(0, 1), qty=quantities, lot=st.sampled_from("XY"))
    def receive(self, item: int, loc: int, qty: Decimal, lot: str) -> None:
        sku, where = self.skus[item], self.locations[loc]
        stock.receive(self.uow, sku, where, qty, lot=lot if item else None)
        self.on_hand[(sku, where)] += qty

    @rule(item=st.integers(0, 1), loc=st.integers(0, 1), qty=quantities)
    def ship(self, item: int, loc: int, qty: Decimal) -> None:
        key = (self.skus[item], self.locations[loc])
        try:
            stock.ship(self.uow, *key, qty)
            self.on_hand[key] -= qty
        except OutOfStock:
            assert qty > self.available(key)

    @rule(
        item=st.integers(0, 1),
        loc=st.integers(0, 1),
        qty=quantities,
        back=st.integers(1, 20 * 24),
        lot=st.sampled_from("XY"),
    )
    def receive_backdated(self, item: int, loc: int, qty: Decimal, back: int, lot: str) -> None:
        sku, where = self.skus[item], self.locations[loc]
        when = datetime.now(UTC) - timedelta(hours=back)
        stock.receive(self.uow, sku, where, qty, lot=lot if item else None, occurred_at=when)
        self.on_hand[(sku, where)] += qty

    @rule(
        item=st.integers(0, 1),
        loc=st.integers(0, 1),
        qty=quantities,
        back=st.integers(1, 20 * 24) | st.integers(1, 4).map(lambda m: -m),
    )
    def ship_backdated(self, item: int, loc: int, qty: Decimal, back: int) -> None:
        """Ship dated hours back (or, negative, that many minutes back)."""
        key = (self.skus[item], self.locations[loc])
        ago = timedelta(hours=back) if back > 0 else timedelta(minutes=-back)
        try:
            stock.ship(self.uow, *key, qty, occurred_at=datetime.now(UTC) - ago)
            self.on_hand[key] -= qty
        except OutOfStock:
            assert qty > self.available(key)
        except PastShortfall:
            pass  # refused: nothing posted, as the other invariants check

    @rule(item=st.integers(0, 1), loc=st.integers(0, 1), qty=quantities)
    def transfer(self, item: int, loc: int, qty: Decimal) -> None:
        sku, source, target = self.skus[item], self.locations[loc], self.locations[1 - loc]
        try:
            stock.transfer(self.uow, sku, source, target, qty)
            self.on_hand[(sku, source)] -= qty
            self.on_hand[(sku, target)] += qty
        except OutOfStock:
            assert qty > self.available((sku, source))

    @rule(loc=st.integers(0, 1), counted=st.integers(0, 30).map(Decimal))
    def count(self, loc: int, counted: Decimal) -> None:
        key = (self.skus[0], self.locations[loc])
        stock.count(self.uow, *key, counted)  # a count below what is reserved is still the truth
        self.on_hand[key] = counted

    @rule(item=st.integers(0, 1), loc=st.integers(0, 1), qty=quantities)
    def scrap(self, item: int, loc: int, qty: Decimal) -> None:
        key = (self.skus[item], self.locations[loc])
        try:
            stock.scrap(self.uow, *key, qty, ScrapReason.DAMAGE)
            self.on_hand[key] -= qty
        except OutOfStock:
            assert qty > self.on_hand[key]

    @rule(item=st.integers(0, 1), loc=st.integers(0, 1), qty=quantities)
    def reserve(self, item: int, loc: int, qty: Decimal) -> None:
        key = (self.skus[item], self.locations[loc])
        try:
            reservation = stock.reserve(self.uow, *key, qty, "ref")
            self.reserved[key] += qty
            self.open[reservation.id] = (*key, qty)
        except OutOfStock:
            assert qty > self.available(key)

    @precondition(lambda self: bool(self.open))
    @rule(data=st.data(), consume=st.booleans())
    def settle(self, data: st.DataObject, consume: bool) -> None:
        reservation_id = data.draw(st.sampled_from(sorted(self.open)))
        sku, where, qty = self.open.pop(reservation_id)
        if consume and self.on_hand[(sku, where)] >= qty:
            stock.consume(self.uow, reservation_id)
            self.on_hand[(sku, where)] -= qty
        else:
            stock.release(self.uow, reservation_id)
        self.reserved[(sku, where)] -= qty

    @invariant()
    def balances_sum_to_zero_and_equal_the_moves(self) -> None:
        balances, from_moves, totals = ledger_state(self.engine, self.skus)
        assert all(total == 0 for total in totals.values()), totals
        assert balances == from_moves
        for (sku, where), qty in self.on_hand.items():
            assert balances.get((sku, where), Decimal(0)) == qty

    @invariant()
    def stock_agrees_with_the_model(self) -> None:
        for row in queries.stock(self.uow, limit=500).items:
            key = (row["sku"], row["location"])
            if key[0] in self.skus:
                assert row["on_hand"] >= 0
                assert row["on_hand"] == self.on_hand[key]
                assert row["reserved"] == self.reserved[key]

    @invariant()
    def no_physical_balance_is_negative_at_any_moment(self) -> None:
        with self.engine.connect() as db:
            places = set(
                db.execute(
                    select(t.locations.c.id).where(t.locations.c.code.in_(self.locations))
                ).scalars()
            )
            rows = db.execute(
                select(t.moves.c.item_id, t.moves.c.lot, t.moves.c.source_id, t.moves.c.target_id)
                .add_columns(t.moves.c.quantity)
                .join(t.items, t.items.c.id == t.moves.c.item_id)
                .where(t.items.c.sku.in_(self.skus))
                .order_by(t.moves.c.occurred_at, t.moves.c.operation_id, t.moves.c.id)
            ).all()
        running: dict[tuple[int, int, str | None], Decimal] = defaultdict(Decimal)
        for item_id, lot, source, target, quantity in rows:
            for place, sign in ((source, -1), (target, 1)):
                if place in places:
                    for key in {(item_id, place, None), (item_id, place, lot)}:
                        running[key] += sign * quantity
                        assert running[key] >= 0, (key, rows)


@pytest.mark.slow
def test_balances_always_sum_to_zero_per_item(engine: Engine) -> None:
    Ledger.engine = engine
    run = Ledger.TestCase
    run.settings = settings(
        max_examples=12,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    run().runTest()
