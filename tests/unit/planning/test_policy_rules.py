"""MOQ/pack rounding, kanban sizing, shelf-life cap, MTO check, lead time from receipts."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leanstock.planning.policy import (
    kanban_cards,
    lead_time_fits,
    lead_time_from_receipts,
    round_order_quantity,
    shelf_life_level,
)


@given(
    need=st.floats(0.01, 1e4),
    moq=st.floats(0.0, 500.0),
    pack=st.integers(1, 48),
    maximum=st.floats(1.0, 2e4) | st.just(math.inf),
)
def test_rounding_buys_whole_packs_at_least_moq_within_the_maximum(
    need: float, moq: float, pack: int, maximum: float
) -> None:
    result = round_order_quantity(need, moq, pack, maximum)
    q = float(result.quantity)
    multiple = q / pack
    assert abs(multiple - round(multiple)) < 1e-6
    if q > 0:
        assert q >= moq - 1e-6
        assert q <= maximum + 1e-6
    smallest = math.ceil(max(need, moq) / pack - 1e-9) * pack
    if smallest <= maximum:
        assert q >= need - 1e-6
        assert q == pytest.approx(smallest)
        assert not result.capped
    else:
        assert result.capped


def test_rounding_examples() -> None:
    result = round_order_quantity([0, 3, 7, 23, 23], 5, 4, [100, 100, 100, 20, 3])
    np.testing.assert_array_equal(result.quantity, [0, 8, 8, 20, 0])
    np.testing.assert_array_equal(result.capped, [False, False, False, True, True])


def test_kanban_cards_follow_the_toyota_formula() -> None:
    # D = 100/day, L = 0.5 day, α = 0.1, C = 20: 100·0.5·1.1/20 = 2.75 → 3 cards.
    loop = kanban_cards(100, 0.5, 20, 0.1)
    assert float(loop.cards) == 3
    assert float(kanban_cards(0.0, 3.0, 10.0).cards) == 1


def test_shelf_life_caps_the_level_at_lead_time_plus_shelf_life_of_demand() -> None:
    cap = shelf_life_level([10.0, 10.0, 10.0], [2.0, 2.0, 0.0], [5.0, np.inf, 0.0])
    assert cap[0] == pytest.approx(70.0)  # 20 sold while the order travels, 50 within 5 periods
    assert cap[1] == np.inf
    assert cap[2] == 0.0


def test_make_to_order_flags_a_lead_time_longer_than_the_wait() -> None:
    fits = lead_time_fits([5.0, 5.0, 9.0], [0.0, 2.0, 0.0], [7.0, 7.0, 7.0])
    np.testing.assert_array_equal(fits, [True, False, False])


def test_lead_time_comes_from_receipts_or_from_the_promise_when_too_few() -> None:
    day = dt.date(2026, 1, 1)
    arrivals = [8, 9, 10, 8, 12, 9, 9, 11]
    receipts = pl.DataFrame(
        {
            "item": ["a"] * 6 + ["b"] * 2,
            "location": ["x"] * 8,
            "ordered_on": [day] * 8,
            "promised_on": [day + dt.timedelta(days=7)] * 8,
            "received_on": [day + dt.timedelta(days=d) for d in arrivals],
        }
    )
    result = lead_time_from_receipts(receipts).sort("item")
    a, b = result.to_dicts()
    assert a["receipts"] == 6
    assert a["lead_time_source"] == "receipts"
    assert a["lead_time_mean"] == pytest.approx(np.mean(arrivals[:6]))
    assert a["lead_time_sd"] == pytest.approx(np.std(arrivals[:6], ddof=1))
    assert b["lead_time_source"] == "promised"
    assert b["lead_time_mean"] == pytest.approx(7.0)
    assert b["lead_time_sd"] == pytest.approx(np.std([2, 4], ddof=1))
