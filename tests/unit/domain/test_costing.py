"""Costing by replay: FIFO and moving average against hand-computed examples, and the
properties every replay keeps (value = the layers; opening + inflows = outflows + closing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leanstock.domain.catalog import CostingMethod, LocationKind
from leanstock.domain.costing import (
    INFLOWS,
    CostedMove,
    Flow,
    period_flows,
    replay,
)

WH, STORE, TRANSIT, SUPPLIER, CUSTOMER, PRODUCTION, SCRAP, ADJUST, WIP = range(1, 10)
KINDS = {
    WH: LocationKind.WAREHOUSE,
    STORE: LocationKind.STORE,
    TRANSIT: LocationKind.IN_TRANSIT,
    SUPPLIER: LocationKind.SUPPLIER,
    CUSTOMER: LocationKind.CUSTOMER,
    PRODUCTION: LocationKind.PRODUCTION,
    SCRAP: LocationKind.SCRAP,
    ADJUST: LocationKind.ADJUSTMENT,
    WIP: LocationKind.WORK_IN_PROGRESS,
}
FIFO, AVERAGE = CostingMethod.FIFO, CostingMethod.MOVING_AVERAGE
DAY = datetime(2026, 11, 1, tzinfo=UTC)
D = Decimal


def move(
    n: int,
    day: int,
    source: int,
    target: int,
    quantity: str,
    cost: str | None = None,
    op: int | None = None,
    conversion: str | None = None,
    reference: str | None = None,
    item: int = 0,
) -> CostedMove:
    return CostedMove(
        n,
        op or n,
        DAY + timedelta(days=day),
        source,
        target,
        D(quantity),
        None if cost is None else D(cost),
        None if conversion is None else D(conversion),
        reference,
        item,
    )


TWO_RECEIPTS_AND_A_SHIPMENT = [
    move(1, 1, SUPPLIER, WH, "10", "2.00"),
    move(2, 2, SUPPLIER, WH, "10", "3.00"),
    move(3, 3, WH, CUSTOMER, "15"),
]


def cogs(moves: list[CostedMove], method: CostingMethod) -> D:
    return period_flows(replay(moves, KINDS, method, D(0)), WH, None, None).cost_of_goods_sold


def test_fifo_ships_the_oldest_cost_first() -> None:
    valuation = replay(TWO_RECEIPTS_AND_A_SHIPMENT, KINDS, FIFO, D(0))
    # 10 × 2.00 + 5 × 3.00 out; 5 × 3.00 left.
    assert cogs(TWO_RECEIPTS_AND_A_SHIPMENT, FIFO) == D("35")
    assert valuation.on_hand(WH) == 5
    assert valuation.value(WH) == D("15")


def test_moving_average_ships_at_the_average_cost() -> None:
    valuation = replay(TWO_RECEIPTS_AND_A_SHIPMENT, KINDS, AVERAGE, D(0))
    # (20 + 30) / 20 = 2.50 a unit: 15 × 2.50 out, 5 × 2.50 left.
    assert cogs(TWO_RECEIPTS_AND_A_SHIPMENT, AVERAGE) == D("37.5")
    assert valuation.value(WH) == D("12.5")


def test_a_moving_average_that_does_not_divide_loses_nothing_to_rounding() -> None:
    moves = [
        move(1, 1, SUPPLIER, WH, "1", "1"),
        move(2, 2, SUPPLIER, WH, "2", "1.5"),  # 4.00 for 3: 1.333333... a unit
        move(3, 3, WH, CUSTOMER, "1"),
        move(4, 4, WH, CUSTOMER, "2"),
    ]
    valuation = replay(moves, KINDS, AVERAGE, D(0))
    assert valuation.move_costs()[3] == D("1.333333")
    assert valuation.move_costs()[4] == D("2.666667")  # the last units take what is left
    assert cogs(moves, AVERAGE) == D("4")
    assert valuation.value(WH) == 0


def test_a_transfer_keeps_the_cost_of_the_layers_it_takes() -> None:
    moves = [
        move(1, 1, SUPPLIER, WH, "10", "2"),
        move(2, 2, SUPPLIER, WH, "10", "3"),
        move(3, 3, WH, TRANSIT, "12"),
        move(4, 4, TRANSIT, STORE, "12"),
        move(5, 5, STORE, CUSTOMER, "11"),
    ]
    valuation = replay(moves, KINDS, FIFO, D(0))
    assert valuation.value(WH) == D("24")  # 8 × 3
    # The store got 10 × 2 and 2 × 3 (26) and sold 10 × 2 + 1 × 3 (23).
    assert period_flows(valuation, STORE, None, None).cost_of_goods_sold == D("23")
    assert valuation.value(STORE) == D("3")
    assert valuation.value(TRANSIT) == 0


def test_production_output_costs_its_components_plus_conversion() -> None:
    flour, sugar, bread = 1, 2, 3
    moves = [
        move(1, 1, SUPPLIER, WH, "50", "0.80", item=flour),  # kg
        move(2, 1, SUPPLIER, WH, "10", "2.00", item=sugar),
        move(3, 2, WH, WIP, "5", op=3, item=flour),  # issued to work in progress
        move(4, 2, WH, WIP, "1", op=3, item=sugar),
        move(5, 3, WIP, PRODUCTION, "5", op=5, reference="MO-1", item=flour),  # 4.00
        move(6, 3, WIP, PRODUCTION, "1", op=6, reference="MO-1", item=sugar),  # 2.00
        move(7, 3, PRODUCTION, WH, "10", op=7, conversion="1.00", reference="MO-1", item=bread),
        # A second batch of the same order uses only what was consumed since the first.
        move(8, 4, SUPPLIER, WIP, "5", "1.00", item=flour),
        move(9, 5, WIP, PRODUCTION, "5", op=9, reference="MO-1", item=flour),  # 5.00
        move(10, 5, PRODUCTION, WH, "5", op=10, reference="MO-1", item=bread),
    ]
    valuation = replay(moves, KINDS, FIFO, D(0))
    # 4.00 flour + 2.00 sugar + 1.00 conversion for 10 loaves; then 5.00 for 5 more.
    assert [x.value for x in valuation.layers[(bread, WH)]] == [D("7"), D("5")]
    assert valuation.value(WIP, flour) == 0


def test_a_location_allowed_to_go_negative_settles_its_deficit_as_variance() -> None:
    moves = [
        move(1, 1, SUPPLIER, STORE, "1", "1"),
        move(2, 2, STORE, CUSTOMER, "3"),  # 1 held, 2 issued at the last cost, 1.00
        move(3, 3, SUPPLIER, STORE, "5", "1.5"),
    ]
    valuation = replay(moves, KINDS, FIFO, D(0))
    flows = period_flows(valuation, STORE, None, None)
    assert flows.cost_of_goods_sold == D("3")
    assert flows.flows[Flow.VARIANCE] == D("-1")  # the 2 cost 1.50, not 1.00
    assert valuation.on_hand(STORE) == 3
    assert valuation.value(STORE) == D("4.5")


def test_stock_without_a_cost_of_its_own_is_valued_at_the_fallback() -> None:
    valuation = replay([move(1, 1, ADJUST, WH, "4")], KINDS, FIFO, D("2.5"))
    assert valuation.value(WH) == D("10")


def test_as_of_leaves_later_moves_out() -> None:
    valuation = replay(TWO_RECEIPTS_AND_A_SHIPMENT, KINDS, FIFO, D(0), DAY + timedelta(days=2))
    assert valuation.on_hand(WH) == 20
    assert valuation.value(WH) == D("50")


def test_a_backdated_receipt_revalues_every_later_shipment() -> None:
    later = [*TWO_RECEIPTS_AND_A_SHIPMENT, move(9, 0, SUPPLIER, WH, "5", "1")]  # day 0
    # FIFO now ships 5 × 1 + 10 × 2 first: 25, and 10 × 3 are left.
    assert cogs(later, FIFO) == D("25")
    assert replay(later, KINDS, FIFO, D(0)).value(WH) == D("30")


# Properties

costs = st.decimals(min_value=D(0), max_value=D(100), places=2)
amounts = st.decimals(min_value=D("0.001"), max_value=D(30), places=3)
PLACES = [WH, STORE, TRANSIT]


@st.composite
def histories(draw: st.DrawFn) -> list[CostedMove]:
    """Moves in and out of three holding locations; outflows never exceed what is held, so
    the history could have happened at locations that may not go negative."""
    held = dict.fromkeys(PLACES, D(0))
    moves = []
    for n in range(1, draw(st.integers(1, 40)) + 1):
        kind = draw(st.sampled_from(["in", "in", "out", "move", "count"]))
        at = draw(st.sampled_from(PLACES))
        q = draw(amounts)
        if kind == "in" or held[at] == 0:
            moves.append(move(n, n, SUPPLIER, at, str(q), str(draw(costs))))
            held[at] += q
        elif kind == "count":
            moves.append(move(n, n, ADJUST, at, str(q), str(draw(costs))))
            held[at] += q
        else:
            q = min(q, held[at])
            to = draw(st.sampled_from([CUSTOMER, SCRAP, ADJUST])) if kind == "out" else None
            to = to or draw(st.sampled_from([p for p in PLACES if p != at]))
            moves.append(move(n, n, at, to, str(q)))
            held[at] -= q
            if to in held:
                held[to] += q
    return moves


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(histories(), st.sampled_from([FIFO, AVERAGE]), st.integers(0, 45), st.integers(0, 45))
def test_opening_plus_inflows_is_outflows_plus_closing_for_any_period(
    moves: list[CostedMove], method: CostingMethod, start: int, length: int
) -> None:
    valuation = replay(moves, KINDS, method, D(0))
    since, until = DAY + timedelta(days=start), DAY + timedelta(days=start + length)
    for place in PLACES:
        part = period_flows(valuation, place, since, until)
        assert part.opening_value + part.inflow == part.outflow + part.closing_value
        at_end = replay(moves, KINDS, method, D(0), until)
        assert part.closing_value == at_end.value(place)
        assert part.closing_quantity == at_end.on_hand(place)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(histories(), st.sampled_from([FIFO, AVERAGE]))
def test_value_on_hand_is_the_sum_of_the_layers_and_never_negative(
    moves: list[CostedMove], method: CostingMethod
) -> None:
    valuation = replay(moves, KINDS, method, D(0))
    for place in PLACES:
        held = sum((m.quantity for m in moves if m.target_id == place), D(0)) - sum(
            (m.quantity for m in moves if m.source_id == place), D(0)
        )
        layers = valuation.layers.get((0, place), [])
        assert valuation.on_hand(place) == held
        assert all(layer.quantity > 0 and layer.value >= 0 for layer in layers)
        flows = period_flows(valuation, place, None, None)
        assert flows.closing_value == sum((x.value for x in layers), D(0))
        if method is AVERAGE:
            assert len(layers) <= 1


@settings(max_examples=100, deadline=None)
@given(histories())
def test_fifo_layers_are_the_latest_arrivals_at_their_own_cost(moves: list[CostedMove]) -> None:
    """With one location and no transfers, FIFO holds the newest receipts: the layers' costs
    are those of the last arrivals, in order."""
    single = [m for m in moves if m.source_id in (SUPPLIER, ADJUST) and m.target_id == WH]
    outs = [
        CostedMove(m.id, m.operation_id, m.occurred_at, WH, CUSTOMER, m.quantity)
        for m in moves
        if m.source_id == WH and m.target_id != WH
    ]
    total_in = sum((m.quantity for m in single), D(0))
    outs_ok, taken = [], D(0)
    for m in sorted(outs, key=lambda m: m.id):
        taken_so_far = sum((x.quantity for x in single if x.id < m.id), D(0)) - taken
        if m.quantity <= taken_so_far:
            outs_ok.append(m)
            taken += m.quantity
    valuation = replay(single + outs_ok, KINDS, FIFO, D(0))
    remaining = total_in - taken
    expected, left = [], remaining
    for m in sorted(single, key=lambda m: m.id, reverse=True):
        if left <= 0:
            break
        q = min(m.quantity, left)
        expected.append((q, m.unit_cost))
        left -= q
    layers = valuation.layers.get((0, WH), [])
    assert [(x.quantity, x.unit_cost) for x in reversed(layers)] == [
        (q, (c or D(0)).quantize(D("0.000001"))) for q, c in expected
    ]
    assert set(INFLOWS) >= {Flow.RECEIVED}


def test_a_replay_goes_on_from_where_an_earlier_one_stopped_across_a_production_order() -> None:
    """The KPI snapshot replays only the moves since its last refresh (`start`): cut the
    production example between the components' consumption and the output, and the output is
    still valued at what its order consumed (the pool carries over)."""
    flour, sugar, bread = 1, 2, 3
    moves = [
        move(1, 1, SUPPLIER, WH, "50", "0.80", item=flour),
        move(2, 1, SUPPLIER, WH, "10", "2.00", item=sugar),
        move(3, 2, WH, PRODUCTION, "5", op=3, reference="MO-1", item=flour),  # 4.00
        move(4, 2, WH, PRODUCTION, "1", op=3, reference="MO-1", item=sugar),  # 2.00
        move(5, 3, PRODUCTION, WH, "10", op=5, conversion="1.00", reference="MO-1", item=bread),
        move(6, 4, WH, CUSTOMER, "4", item=bread),
    ]
    whole = replay(moves, KINDS, FIFO, D(0))
    first = replay(moves[:4], KINDS, FIFO, D(0))
    assert first.pools == {"MO-1": D("6.00")}
    rest = replay(moves[4:], KINDS, FIFO, D(0), start=first)
    assert rest.layers == whole.layers
    assert rest.events == whole.events[-len(rest.events) :]
    assert [e.value for e in rest.events] == [D("7.00"), D("-2.80")]
    assert rest.pools == {}


@settings(max_examples=100, deadline=None)
@given(histories(), st.sampled_from([FIFO, AVERAGE]), st.integers(0, 40))
def test_a_replay_in_two_parts_finds_what_one_replay_finds(
    moves: list[CostedMove], method: CostingMethod, cut: int
) -> None:
    whole = replay(moves, KINDS, method, D(0))
    first = replay(moves[:cut], KINDS, method, D(0))
    rest = replay(moves[cut:], KINDS, method, D(0), start=first)
    assert rest.layers == whole.layers
    assert first.events + rest.events == whole.events
    assert rest.last_arrival == whole.last_arrival
