"""Property: whatever moves run, dated now or days back, on SQLite and PostgreSQL, no physical
balance is negative at any moment of history, per item-location and per lot."""

from __future__ import annotations

import uuid
from collections import defaultdict
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import Engine, select

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, LocationKind
from leanstock.domain.errors import OutOfStock
from leanstock.domain.history import PastShortfall
from leanstock.domain.ledger import ScrapReason
from leanstock.services import catalog, stock

D = Decimal
quantities = st.integers(min_value=1, max_value=12).map(D)
# None: now; a pair: that many days (and hours) back; a number: that many minutes back
# (within the five minutes that flag a move backdated, still checked).
Moment = tuple[int, int] | int | None
moments: st.SearchStrategy[Moment] = (
    st.none() | st.tuples(st.integers(0, 20), st.integers(0, 23)) | st.integers(1, 4)
)


class Backdated(RuleBasedStateMachine):
    engine: Engine

    def __init__(self) -> None:
        super().__init__()
        self.uow = UnitOfWork(self.engine)
        tag = uuid.uuid4().hex[:8]
        self.places = [f"A-{tag}", f"B-{tag}"]
        self.skus = [f"P-{tag}", f"L-{tag}"]
        catalog.add_location(self.uow, Location(self.places[0], "A"))
        catalog.add_location(self.uow, Location(self.places[1], "B", LocationKind.STORE))
        catalog.add_item(self.uow, Item(self.skus[0], "Plain"))
        catalog.add_item(self.uow, Item(self.skus[1], "Lotted", lot_tracked=True))
        self.now = datetime.now(UTC) - timedelta(hours=1)

    def at(self, moment: Moment) -> datetime | None:
        if moment is None:
            return None
        if isinstance(moment, int):
            return datetime.now(UTC) - timedelta(minutes=moment)
        return self.now - timedelta(days=moment[0], hours=moment[1])

    @rule(item=st.integers(0, 1), loc=st.integers(0, 1), qty=quantities, when=moments)
    def receive(self, item: int, loc: int, qty: Decimal, when: Moment) -> None:
        lot = "X" if item else None
        stock.receive(
            self.uow, self.skus[item], self.places[loc], qty, lot=lot, occurred_at=self.at(when)
        )

    @rule(item=st.integers(0, 1), loc=st.integers(0, 1), qty=quantities, when=moments)
    def ship(self, item: int, loc: int, qty: Decimal, when: Moment) -> None:
        with suppress(OutOfStock, PastShortfall):
            stock.ship(self.uow, self.skus[item], self.places[loc], qty, occurred_at=self.at(when))

    @rule(item=st.integers(0, 1), loc=st.integers(0, 1), qty=quantities, when=moments)
    def transfer(self, item: int, loc: int, qty: Decimal, when: Moment) -> None:
        source, target = self.places[loc], self.places[1 - loc]
        with suppress(OutOfStock, PastShortfall):
            stock.transfer(
                self.uow, self.skus[item], source, target, qty, occurred_at=self.at(when)
            )

    @rule(loc=st.integers(0, 1), qty=quantities)
    def reserve(self, loc: int, qty: Decimal) -> None:
        # Later backdated shipments and transfers count it from now on.
        with suppress(OutOfStock):
            stock.reserve(self.uow, self.skus[0], self.places[loc], qty, uuid.uuid4().hex)

    @rule(loc=st.integers(0, 1), qty=quantities, when=moments)
    def scrap(self, loc: int, qty: Decimal, when: Moment) -> None:
        with suppress(OutOfStock, PastShortfall):
            stock.scrap(
                self.uow,
                self.skus[0],
                self.places[loc],
                qty,
                ScrapReason.DAMAGE,
                occurred_at=self.at(when),
            )

    @invariant()
    def no_balance_is_negative_at_any_moment(self) -> None:
        with self.engine.connect() as db:
            ids = dict(
                db.execute(
                    select(t.locations.c.id, t.locations.c.code).where(
                        t.locations.c.code.in_(self.places)
                    )
                ).all()
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
                if place in ids:
                    for key in ((item_id, place, None), (item_id, place, lot)):
                        running[key] += sign * quantity
                        assert running[key] >= 0, (ids[place], key, rows)


@pytest.mark.slow
def test_no_physical_balance_is_negative_at_any_point_in_time(engine: Engine) -> None:
    Backdated.engine = engine
    run = Backdated.TestCase
    run.settings = settings(
        max_examples=10,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    run().runTest()
