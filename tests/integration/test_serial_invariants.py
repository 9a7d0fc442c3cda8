"""Property: whatever receipts, shipments, transfers and scraps run, with serials good or bad,
a serial is in one place at a time, that place is where a simple model says, and the serials
at each location are exactly its balance there (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import Engine, func, select

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import CUSTOMER, SCRAP, Item, Location, LocationKind
from leanstock.domain.errors import DomainError
from leanstock.domain.ledger import ScrapReason
from leanstock.services import catalog, stock

SERIALS = [f"S{n}" for n in range(8)]
some_serials = st.lists(st.sampled_from(SERIALS), min_size=1, max_size=4)


class Serials(RuleBasedStateMachine):
    engine: Engine

    def __init__(self) -> None:
        super().__init__()
        self.uow = UnitOfWork(self.engine)
        tag = uuid.uuid4().hex[:8]
        self.sku = f"SN-{tag}"
        self.places = [f"A-{tag}", f"B-{tag}"]
        catalog.add_location(self.uow, Location(self.places[0], "A"))
        catalog.add_location(self.uow, Location(self.places[1], "B", LocationKind.STORE))
        catalog.add_item(self.uow, Item(self.sku, "Serialised", serial_tracked=True))
        self.where: dict[str, str] = {}  # the model: serial → location code

    def attempt(self, move: str, named: list[str], source: str | None, target: str) -> None:
        """Run one operation; the model moves the serials only when every rule allows it."""
        distinct = len(set(named)) == len(named)
        if source is None:
            allowed = distinct and all(s not in self.where for s in named)
        else:
            allowed = distinct and all(self.where.get(s) == source for s in named)
        quantity = Decimal(len(named))
        try:
            if move == "receive":
                stock.receive(self.uow, self.sku, target, quantity, serials=named)
            elif move == "ship":
                assert source is not None
                stock.ship(self.uow, self.sku, source, quantity, serials=named)
            elif move == "transfer":
                assert source is not None
                stock.transfer(self.uow, self.sku, source, target, quantity, serials=named)
            else:
                assert source is not None
                reason = ScrapReason.DAMAGE
                stock.scrap(self.uow, self.sku, source, quantity, reason, serials=named)
        except DomainError:
            assert not allowed, (move, named, self.where)
            return
        assert allowed, (move, named, self.where)
        self.where.update(dict.fromkeys(named, target))

    @rule(named=some_serials, at=st.integers(0, 1))
    def receive(self, named: list[str], at: int) -> None:
        self.attempt("receive", named, None, self.places[at])

    @rule(named=some_serials, at=st.integers(0, 1))
    def ship(self, named: list[str], at: int) -> None:
        self.attempt("ship", named, self.places[at], CUSTOMER)

    @rule(named=some_serials, at=st.integers(0, 1))
    def transfer(self, named: list[str], at: int) -> None:
        self.attempt("transfer", named, self.places[at], self.places[1 - at])

    @rule(named=some_serials, at=st.integers(0, 1))
    def scrap(self, named: list[str], at: int) -> None:
        self.attempt("scrap", named, self.places[at], SCRAP)

    @invariant()
    def each_serial_is_where_the_model_says_and_the_counts_are_the_balances(self) -> None:
        with self.engine.connect() as db:
            item = select(t.items.c.id).where(t.items.c.sku == self.sku).scalar_subquery()
            rows = db.execute(
                select(t.serials.c.serial, t.locations.c.code)
                .join(t.locations, t.locations.c.id == t.serials.c.location_id)
                .where(t.serials.c.item_id == item)
            ).all()
            balances = db.execute(
                select(t.locations.c.code, func.sum(t.balances.c.quantity))
                .join(t.locations, t.locations.c.id == t.balances.c.location_id)
                .where(t.balances.c.item_id == item, t.locations.c.code != "supplier")
                .group_by(t.locations.c.code)
            ).all()
        found = dict(rows)
        assert len(found) == len(rows)  # one row, so one place, per serial
        assert found == self.where
        held: dict[str, int] = {}
        for code in found.values():
            held[code] = held.get(code, 0) + 1
        assert {c: Decimal(n) for c, n in held.items()} == {c: q for c, q in balances if q}


@pytest.mark.slow
def test_a_serial_is_never_in_two_places(engine: Engine) -> None:
    Serials.engine = engine
    run = Serials.TestCase
    run.settings = settings(
        max_examples=10,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    run().runTest()
