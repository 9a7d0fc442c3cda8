"""What stock is worth: FIFO layers or a moving average per item-location, replayed from moves.

Value enters the business only where stock arrives from outside: a receipt (at the PO price or
the cost given), a count gain or opening balance (at the cost given, else the item's unit
cost), a production output (at the cost of the components its order consumed, plus any stated
conversion cost). Everything else carries value from where it was: a transfer keeps its cost,
a shipment, scrap or consumption takes its cost out of the location's layers.

Values are replayed from the moves in the order they occurred (`occurred_at`, then the order
they were recorded in), so a backdated receipt re-values every later layer and outflow by
construction. The replay keeps value exact: every outflow's value is computed and subtracted,
so for each location and period, opening + inflows = outflows + closing holds to the cent and
beyond (`Flows.balances`).

Rules (textbook perpetual inventory; Horngren, Datar & Rajan, *Cost Accounting*, ch. 9):
- FIFO: an outflow takes the oldest layers first; a transfer moves those layers, costs kept.
- Moving average: unit cost = value on hand / quantity on hand, recomputed at every inflow;
  an outflow takes quantity × that cost (rounded to the ledger's six places; the last unit
  out takes exactly what is left, so no value is lost to rounding).
- A location allowed to go negative issues what it does not have at its last unit cost; the
  next arrival first settles that deficit, and the difference in cost is booked as `variance`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from enum import StrEnum
from typing import ClassVar, TypeVar

from leanstock.domain.catalog import PHYSICAL_KINDS, CostingMethod, LocationKind
from leanstock.domain.events import DomainEvent
from leanstock.domain.quantities import QUANTUM, tidy

ZERO = Decimal(0)
T = TypeVar("T")
# Where value is held: the business's own locations, and goods on their way between them.
HOLDING_KINDS = PHYSICAL_KINDS | {LocationKind.IN_TRANSIT}


class Flow(StrEnum):
    """Why value entered or left a location."""

    RECEIVED = "received"  # from a supplier
    ADJUSTED_IN = "adjusted_in"  # a count gain, an opening balance
    PRODUCED = "produced"  # output of production
    RETURNED_IN = "returned_in"  # a customer return
    TRANSFERRED_IN = "transferred_in"
    SOLD = "sold"  # to a customer: cost of goods sold
    SCRAPPED = "scrapped"
    CONSUMED = "consumed"  # into production
    ADJUSTED_OUT = "adjusted_out"  # a count loss
    RETURNED_OUT = "returned_out"  # back to a supplier
    TRANSFERRED_OUT = "transferred_out"
    VARIANCE = "variance"  # a deficit settled at another cost than it was issued at


INFLOWS = frozenset(
    {Flow.RECEIVED, Flow.ADJUSTED_IN, Flow.PRODUCED, Flow.RETURNED_IN, Flow.TRANSFERRED_IN}
)

_IN_FROM: dict[LocationKind, Flow] = {
    LocationKind.SUPPLIER: Flow.RECEIVED,
    LocationKind.ADJUSTMENT: Flow.ADJUSTED_IN,
    LocationKind.PRODUCTION: Flow.PRODUCED,
    LocationKind.CUSTOMER: Flow.RETURNED_IN,
    LocationKind.SCRAP: Flow.ADJUSTED_IN,
}
_OUT_TO: dict[LocationKind, Flow] = {
    LocationKind.CUSTOMER: Flow.SOLD,
    LocationKind.SCRAP: Flow.SCRAPPED,
    LocationKind.PRODUCTION: Flow.CONSUMED,
    LocationKind.ADJUSTMENT: Flow.ADJUSTED_OUT,
    LocationKind.SUPPLIER: Flow.RETURNED_OUT,
}


@dataclass(frozen=True)
class CostedMove:
    """A move as costing reads it. `unit_cost` is the stated cost of stock arriving from
    outside; `conversion_cost` the total cost a production output adds to its components'."""

    id: int
    operation_id: int
    occurred_at: datetime
    source_id: int
    target_id: int
    quantity: Decimal
    unit_cost: Decimal | None = None
    conversion_cost: Decimal | None = None
    reference: str | None = None
    item_id: int = 0


@dataclass(frozen=True)
class Layer:
    """A quantity held at a value (for FIFO, one receipt's remainder; for a moving average,
    the whole location). A deficit layer holds a negative quantity and value."""

    quantity: Decimal
    value: Decimal

    @property
    def unit_cost(self) -> Decimal:
        return tidy(_quantize(self.value / self.quantity)) if self.quantity else ZERO


@dataclass(frozen=True)
class FlowEvent:
    """Value entering (+) or leaving (−) one location, when and why."""

    occurred_at: datetime
    location_id: int
    flow: Flow
    quantity: Decimal
    value: Decimal
    move_id: int
    item_id: int = 0


Key = tuple[int, int]  # (item id, location id)


@dataclass
class Valuation:
    """A replay: the layers each item-location holds at the end, and every flow; with where
    it stopped (each item-location's last arrival, the value production orders consumed and
    have not yet put into output), so a later replay of later moves can go on from it."""

    layers: dict[Key, list[Layer]] = field(default_factory=dict)
    events: list[FlowEvent] = field(default_factory=list)
    last_arrival: dict[Key, Layer] = field(default_factory=dict)
    pools: dict[str | None, Decimal] = field(default_factory=dict)

    def on_hand(self, location_id: int, item_id: int = 0) -> Decimal:
        return sum((x.quantity for x in self.layers.get((item_id, location_id), [])), ZERO)

    def value(self, location_id: int, item_id: int = 0) -> Decimal:
        return sum((x.value for x in self.layers.get((item_id, location_id), [])), ZERO)

    def move_costs(self) -> dict[int, Decimal]:
        """The value each move carried, by move id (outflow side for moves between holdings)."""
        costs: dict[int, Decimal] = {}
        for e in self.events:
            if e.flow is Flow.VARIANCE:
                continue
            costs.setdefault(e.move_id, abs(e.value))
        return costs


def _quantize(value: Decimal) -> Decimal:
    return value.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def _take(layers: list[Layer], quantity: Decimal, last_cost: Callable[[], Decimal]) -> list[Layer]:
    """Remove `quantity` from the front of `layers` (in place); returns the pieces taken.

    What the layers do not hold is issued as a deficit piece at `last_cost`.
    """
    taken: list[Layer] = []
    remaining = quantity
    while remaining > 0 and layers and layers[0].quantity > 0:
        first = layers[0]
        if first.quantity <= remaining:
            taken.append(first)
            layers.pop(0)
            remaining -= first.quantity
        else:
            value = _quantize(first.value * remaining / first.quantity)
            taken.append(Layer(remaining, value))
            layers[0] = Layer(first.quantity - remaining, first.value - value)
            remaining = ZERO
    if remaining > 0:
        value = _quantize(remaining * last_cost())
        taken.append(Layer(remaining, value))
        deficit = Layer(-remaining, -value)
        if layers and layers[-1].quantity < 0:
            layers[-1] = Layer(layers[-1].quantity + deficit.quantity, layers[-1].value - value)
        else:
            layers.append(deficit)
    return taken


def _add(layers: list[Layer], pieces: Sequence[Layer], method: CostingMethod) -> Decimal:
    """Add `pieces` to `layers` (in place); returns the variance of settling a deficit."""
    variance = ZERO
    for piece in pieces:
        quantity, value = piece.quantity, piece.value
        if layers and layers[-1].quantity < 0 and quantity > 0:
            deficit = layers.pop()
            settled = min(quantity, -deficit.quantity)
            settled_value = value if settled == quantity else _quantize(value * settled / quantity)
            # Issued at the deficit's cost, arrived at this one.
            issued = (
                -deficit.value
                if settled == -deficit.quantity
                else _quantize(-deficit.value * settled / -deficit.quantity)
            )
            variance += settled_value - issued
            if settled < -deficit.quantity:
                layers.append(Layer(deficit.quantity + settled, deficit.value + issued))
            quantity, value = quantity - settled, value - settled_value
        if quantity == 0:
            continue
        if method is CostingMethod.MOVING_AVERAGE and layers:
            whole = layers.pop()
            layers.append(Layer(whole.quantity + quantity, whole.value + value))
        else:
            layers.append(Layer(quantity, value))
    return variance


def _unit_cost_of(layers: Sequence[Layer], fallback: Decimal) -> Decimal:
    for layer in reversed(layers):
        if layer.quantity > 0:
            return layer.unit_cost
    return fallback


def replay(
    moves: Iterable[CostedMove],
    kinds: dict[int, LocationKind],
    method: CostingMethod | Mapping[int, CostingMethod],
    fallback_cost: Decimal | Mapping[int, Decimal],
    until: datetime | None = None,
    start: Valuation | None = None,
) -> Valuation:
    """Replay moves (in any order; sorted here) into layers and flows per item-location.

    `kinds` gives each location id's kind; `method` the costing method (one, or by item id);
    `fallback_cost` (the item's unit cost, one or by item id) values stock that arrived from
    outside without a cost of its own (moves recorded before costing). Moves after `until` are
    left out. A production output takes the value its order (the operations' `reference`)
    consumed since its last output, whichever items that was: so the moves of every item a
    product is made of belong in the same replay.

    `start` goes on from an earlier replay's end (its layers, last arrivals and production
    pools; events are not carried over): given every move after the earlier replay's last,
    the flows are those a replay of all moves would find for them.
    """
    state = _Replay(kinds, _by_item(method), _by_item(fallback_cost))
    if start is not None:
        state.layers.update((k, list(v)) for k, v in start.layers.items())
        state.last_arrival.update(start.last_arrival)
        state.pools.update(start.pools)
    ordered = sorted(moves, key=lambda m: (m.occurred_at, m.operation_id, m.id))
    with localcontext() as context:
        context.prec = 60
        index = 0
        while index < len(ordered):
            op = ordered[index].operation_id
            group = []
            while index < len(ordered) and ordered[index].operation_id == op:
                group.append(ordered[index])
                index += 1
            if until is not None and group[0].occurred_at > until:
                break
            state.operation(group)
    state.result.layers = {k: v for k, v in state.layers.items() if v}
    state.result.last_arrival = state.last_arrival
    state.result.pools = {k: v for k, v in state.pools.items() if v}
    return state.result


def _by_item(value: T | Mapping[int, T]) -> Callable[[int], T]:
    if isinstance(value, Mapping):
        return value.__getitem__
    return lambda _: value


class _Replay:
    def __init__(
        self,
        kinds: dict[int, LocationKind],
        methods: Callable[[int], CostingMethod],
        fallbacks: Callable[[int], Decimal],
    ) -> None:
        self.kinds, self.methods, self.fallbacks = kinds, methods, fallbacks
        self.result = Valuation()
        self.layers: dict[Key, list[Layer]] = defaultdict(list)
        # The last arrival per item-location: its unit cost issues what a deficit lacks.
        self.last_arrival: dict[Key, Layer] = {}
        # Value consumed by a production order, waiting for its output: by reference.
        self.pools: dict[str | None, Decimal] = defaultdict(Decimal)

    def operation(self, group: list[CostedMove]) -> None:
        """One operation's moves: what leaves is valued before what arrives, and production
        output last, from what the operation (and its order before it) consumed."""
        kinds = self.kinds
        if len(group) == 1 and kinds[group[0].source_id] is not LocationKind.PRODUCTION:
            self.move(group[0])
            return
        group.sort(key=lambda m: (kinds[m.source_id] not in HOLDING_KINDS, m.id))
        outputs = [
            m
            for m in group
            if kinds[m.source_id] is LocationKind.PRODUCTION and kinds[m.target_id] in HOLDING_KINDS
        ]
        made = {m.id for m in outputs}
        for m in group:
            if m.id not in made:
                self.move(m)
        if outputs:
            self.produce(outputs)

    def move(self, m: CostedMove) -> None:
        source_kind, target_kind = self.kinds[m.source_id], self.kinds[m.target_id]
        holds_source, holds_target = source_kind in HOLDING_KINDS, target_kind in HOLDING_KINDS
        fallback = self.fallbacks(m.item_id)
        pieces: list[Layer]
        if holds_source:
            key = (m.item_id, m.source_id)
            held = self.layers[key]
            pieces = _take(held, m.quantity, lambda: self.last_cost(key, fallback))
            out_value = sum((p.value for p in pieces), ZERO)
            flow = (
                Flow.TRANSFERRED_OUT
                if holds_target
                else _OUT_TO.get(target_kind, Flow.ADJUSTED_OUT)
            )
            self.result.events.append(
                FlowEvent(
                    m.occurred_at, m.source_id, flow, -m.quantity, -out_value, m.id, m.item_id
                )
            )
            if target_kind is LocationKind.PRODUCTION:
                self.pools[m.reference] += out_value
        else:
            unit_cost = m.unit_cost if m.unit_cost is not None else fallback
            pieces = [Layer(m.quantity, _quantize(m.quantity * unit_cost))]
        if holds_target:
            flow = (
                Flow.TRANSFERRED_IN if holds_source else _IN_FROM.get(source_kind, Flow.ADJUSTED_IN)
            )
            self.arrive(m, pieces, flow)

    def last_cost(self, key: Key, fallback: Decimal) -> Decimal:
        last = self.last_arrival.get(key)
        return _unit_cost_of(self.layers[key], fallback if last is None else last.unit_cost)

    def arrive(self, m: CostedMove, pieces: list[Layer], flow: Flow) -> None:
        key = (m.item_id, m.target_id)
        value = sum((p.value for p in pieces), ZERO)
        events = self.result.events
        events.append(
            FlowEvent(m.occurred_at, m.target_id, flow, m.quantity, value, m.id, m.item_id)
        )
        variance = _add(self.layers[key], pieces, self.methods(m.item_id))
        if variance:
            events.append(
                FlowEvent(
                    m.occurred_at, m.target_id, Flow.VARIANCE, ZERO, -variance, m.id, m.item_id
                )
            )
        self.last_arrival[key] = Layer(m.quantity, value)

    def produce(self, outputs: list[CostedMove]) -> None:
        """Value a production's output at what its order consumed (shared by quantity) plus
        each output's stated conversion cost; with nothing consumed and no cost stated, at the
        item's unit cost."""
        pool = self.pools.pop(outputs[0].reference, ZERO)
        total = sum((m.quantity for m in outputs), ZERO)
        left = pool
        for position, m in enumerate(outputs):
            share = left if position == len(outputs) - 1 else _quantize(pool * m.quantity / total)
            left -= share
            value = share + (m.conversion_cost or ZERO)
            if pool == 0 and m.conversion_cost is None:
                value = _quantize(m.quantity * self.fallbacks(m.item_id))
            self.arrive(m, [Layer(m.quantity, value)], Flow.PRODUCED)


@dataclass(frozen=True)
class PeriodFlows:
    """One location's value over a period: opening + inflows − outflows = closing."""

    opening_quantity: Decimal
    opening_value: Decimal
    flows: dict[Flow, Decimal]
    closing_quantity: Decimal
    closing_value: Decimal

    @property
    def inflow(self) -> Decimal:
        return sum((v for f, v in self.flows.items() if f in INFLOWS), ZERO)

    @property
    def outflow(self) -> Decimal:
        """Value that left (positive), variance included."""
        return -sum((v for f, v in self.flows.items() if f not in INFLOWS), ZERO)

    @property
    def cost_of_goods_sold(self) -> Decimal:
        return -self.flows.get(Flow.SOLD, ZERO)


def period_flows(
    valuation: Valuation,
    location_id: int,
    since: datetime | None,
    until: datetime | None,
    item_id: int = 0,
) -> PeriodFlows:
    """An item-location's opening value (before `since`), its flows in [since, until], and its
    closing value (at `until`), from a replay of all of the item's moves."""
    opening_q = opening_v = closing_q = closing_v = ZERO
    flows: dict[Flow, Decimal] = defaultdict(Decimal)
    for e in valuation.events:
        if e.location_id != location_id or e.item_id != item_id:
            continue
        if until is not None and e.occurred_at > until:
            continue
        closing_q += e.quantity
        closing_v += e.value
        if since is not None and e.occurred_at < since:
            opening_q += e.quantity
            opening_v += e.value
        else:
            flows[e.flow] += e.value
    return PeriodFlows(opening_q, opening_v, dict(flows), closing_q, closing_v)


@dataclass(frozen=True, kw_only=True)
class CostingMethodChanged(DomainEvent):
    """The company's default costing method was set (audited)."""

    action: ClassVar[str | None] = "set_costing_method"
    method: str
