"""Property: whatever stock operations run, on SQLite and PostgreSQL, the value the service
reports is the value of an independent FIFO model's layers, and over any period opening +
inflows = outflows (cost of goods sold among them) + closing."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import Engine

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import CostingMethod, Item, Location, LocationKind
from leanstock.domain.errors import OutOfStock
from leanstock.domain.ledger import ScrapReason
from leanstock.services import catalog, stock, valuation

D = Decimal
quantities = st.integers(min_value=1, max_value=30).map(D) | st.decimals(
    min_value=D("0.01"), max_value=D(20), places=2
)
costs = st.decimals(min_value=D(0), max_value=D(50), places=2)
Layers = list[list[Decimal]]  # [quantity, unit cost], oldest first


def take(layers: Layers, quantity: Decimal) -> list[tuple[Decimal, Decimal]]:
    taken = []
    while quantity > 0:
        first = layers[0]
        q = min(first[0], quantity)
        taken.append((q, first[1]))
        first[0] -= q
        quantity -= q
        if first[0] == 0:
            layers.pop(0)
    return taken


class Valued(RuleBasedStateMachine):
    engine: Engine

    def __init__(self) -> None:
        super().__init__()
        self.uow = UnitOfWork(self.engine)
        tag = uuid.uuid4().hex[:8]
        self.places = [f"A-{tag}", f"B-{tag}"]
        self.sku = f"V-{tag}"
        catalog.add_location(self.uow, Location(self.places[0], "A"))
        catalog.add_location(self.uow, Location(self.places[1], "B", LocationKind.STORE))
        catalog.add_item(self.uow, Item(self.sku, "Valued", unit="kg", costing=CostingMethod.FIFO))
        self.layers: dict[str, Layers] = defaultdict(list)
        self.sold = D(0)
        self.received = D(0)
        # Moves are dated an hour apart from a week ago, so periods can be cut between them.
        self.clock = datetime.now(UTC) - timedelta(days=7)
        self.marks: list[datetime] = []

    def tick(self) -> datetime:
        self.clock += timedelta(hours=1)
        return self.clock

    def held(self, where: str) -> Decimal:
        return sum((q for q, _ in self.layers[where]), D(0))

    @rule(loc=st.integers(0, 1), qty=quantities, cost=costs)
    def receive(self, loc: int, qty: Decimal, cost: Decimal) -> None:
        where = self.places[loc]
        stock.receive(self.uow, self.sku, where, qty, unit_cost=cost, occurred_at=self.tick())
        self.layers[where].append([qty, cost])
        self.received += qty * cost

    @rule(loc=st.integers(0, 1), qty=quantities)
    def ship(self, loc: int, qty: Decimal) -> None:
        where = self.places[loc]
        try:
            stock.ship(self.uow, self.sku, where, qty, occurred_at=self.tick())
        except OutOfStock:
            assert qty > self.held(where)
            return
        self.sold += sum((q * c for q, c in take(self.layers[where], qty)), D(0))

    @rule(loc=st.integers(0, 1), qty=quantities)
    def transfer(self, loc: int, qty: Decimal) -> None:
        source, target = self.places[loc], self.places[1 - loc]
        try:
            stock.transfer(self.uow, self.sku, source, target, qty, occurred_at=self.tick())
        except OutOfStock:
            assert qty > self.held(source)
            return
        self.layers[target].extend([q, c] for q, c in take(self.layers[source], qty))

    @rule(loc=st.integers(0, 1), qty=quantities)
    def scrap(self, loc: int, qty: Decimal) -> None:
        where = self.places[loc]
        try:
            stock.scrap(self.uow, self.sku, where, qty, ScrapReason.DAMAGE, occurred_at=self.tick())
        except OutOfStock:
            assert qty > self.held(where)
            return
        take(self.layers[where], qty)

    @rule()
    def mark(self) -> None:
        self.marks.append(self.tick())

    @invariant()
    def value_on_hand_is_the_sum_of_the_models_layers(self) -> None:
        found = valuation.stock_value(self.uow, sku=self.sku)
        reported = {x.location: (x.quantity, x.value) for x in found.lines}
        for where in self.places:
            layers = self.layers[where]
            expected = (
                sum((q for q, _ in layers), D(0)),
                sum((q * c for q, c in layers), D(0)),
            )
            assert reported.get(where, (D(0), D(0))) == expected

    @invariant()
    def cogs_plus_closing_is_opening_plus_receipts_for_every_period(self) -> None:
        total = valuation.cost_flows(self.uow, sku=self.sku)
        assert total.cost_of_goods_sold == self.sold
        assert total.totals.get("received", D(0)) == self.received
        for since in self.marks[-2:]:
            part = valuation.cost_flows(self.uow, sku=self.sku, since=since)
            assert part.opening_value + part.inflow == part.outflow + part.closing_value
            scrapped = -part.totals.get("scrapped", D(0))
            received = part.totals.get("received", D(0))
            assert part.cost_of_goods_sold + scrapped + part.closing_value == (
                part.opening_value + received
            )


@pytest.mark.slow
def test_value_follows_an_independent_fifo_model(engine: Engine) -> None:
    Valued.engine = engine
    run = Valued.TestCase
    run.settings = settings(
        max_examples=10,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    run().runTest()
