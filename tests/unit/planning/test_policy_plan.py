"""plan_policies and suggest_orders: the frame contracts the plan service relies on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leanstock.planning.policy import PlanInputError, plan_policies, suggest_orders


def _frame(**overrides: object) -> pl.DataFrame:
    row: dict[str, object] = {
        "item": "bolt",
        "location": "main",
        "policy": "periodic",
        "demand_mean": 200.0,
        "demand_sd": 40.0,
        "lead_time_mean": 7.0,
        "lead_time_sd": 1.0,
        "lead_time_receipts": 14,
    }
    row.update(overrides)
    return pl.DataFrame([row])


def test_periodic_review_level_covers_lead_time_and_review_with_fill_rate_safety() -> None:
    row = plan_policies(_frame()).row(0, named=True)
    assert row["protection_interval"] == 8
    assert row["lead_time_demand_mean"] == pytest.approx(1600)
    assert row["distribution"] == "normal"
    assert row["order_up_to"] == row["reorder_point"]
    assert row["safety_stock"] == pytest.approx(row["order_up_to"] - 1600)
    assert row["safety_stock"] > 0
    assert row["explanation"].startswith("order-up-to level 1904 = 1600 expected over 7 days'")
    assert "95% fill" in row["explanation"]
    assert "spread 1 days from 14 receipts" in row["explanation"]


def test_explanation_reads_like_the_issue_example() -> None:
    frame = _frame(
        policy="reorder_point",
        demand_mean=3.44,
        demand_sd=1.2,
        lead_time_mean=9.0,
        lead_time_sd=2.1,
        integral_units=False,
    )
    row = plan_policies(frame).row(0, named=True)
    assert row["explanation"].startswith(
        f"reorder point {row['reorder_point']:.1f} = 31 expected over 9 days' lead time + "
    )
    assert "lead time spread 2.1 days from 14 receipts" in row["explanation"]


def test_service_defaults_come_from_the_abc_class() -> None:
    frame = pl.concat(
        [_frame(item=c, abc_class=c) for c in "ABC"] + [_frame(item="x")], how="diagonal"
    )
    plan = plan_policies(frame.with_columns(pl.col("abc_class").cast(pl.Utf8)))
    assert plan["target_service"].to_list() == [0.98, 0.95, 0.90, 0.95]
    levels = plan["reorder_point"].to_list()
    assert levels[0] > levels[1] > levels[2]


def test_lead_time_spread_raises_the_buffer() -> None:
    steady = plan_policies(_frame(lead_time_sd=0.0)).row(0, named=True)
    erratic = plan_policies(_frame(lead_time_sd=3.0)).row(0, named=True)
    assert erratic["safety_stock"] > steady["safety_stock"]


def test_forecast_quantile_can_stand_in_for_the_error_spread() -> None:
    by_sd = plan_policies(_frame()).row(0, named=True)
    by_q = plan_policies(_frame(demand_sd=None, demand_p90=200 + 40 * 1.2815516)).row(0, named=True)
    assert by_q["order_up_to"] == pytest.approx(by_sd["order_up_to"], abs=1)


def test_slow_movers_use_count_distributions_and_whole_units() -> None:
    plan = plan_policies(
        pl.concat(
            [
                _frame(demand_mean=0.3, demand_sd=0.9),
                _frame(demand_mean=1.0, demand_sd=1.0, lead_time_sd=0.0),
            ]
        )
    )
    assert plan["distribution"].to_list() == ["negative_binomial", "poisson"]
    assert all(float(v).is_integer() for v in plan["order_up_to"])


def test_min_max_orders_an_eoq_rounded_to_packs() -> None:
    frame = _frame(
        policy="min_max",
        demand_mean=10.0,
        demand_sd=3.0,
        order_cost=50.0,
        holding_rate=0.01,
        unit_cost=10.0,
        moq=40.0,
        pack_size=12.0,
    )
    row = plan_policies(frame).row(0, named=True)
    eoq = np.sqrt(2 * 50 * 10 / 0.1)
    assert row["order_quantity"] == 108  # ⌈100⌉ = 100 → 9 packs of 12
    assert row["order_quantity"] >= eoq
    assert row["order_up_to"] == row["reorder_point"] + row["order_quantity"]


def test_shelf_life_keeps_orders_sellable_before_expiry() -> None:
    frame = _frame(
        policy="reorder_point",
        demand_mean=10.0,
        demand_sd=2.0,
        order_cost=500.0,
        holding_rate=0.001,
        shelf_life=5.0,
    )
    row = plan_policies(frame).row(0, named=True)
    assert row["order_quantity"] <= 10 * 5
    assert row["order_capped"]
    assert "shelf life" in row["explanation"]


def test_kanban_sizes_cards_from_demand_and_lead_time() -> None:
    row = plan_policies(
        _frame(policy="kanban", demand_mean=100.0, lead_time_mean=0.5, container_size=20.0)
    ).row(0, named=True)
    assert row["kanban_cards"] == 3
    assert row["order_quantity"] == 20
    assert row["order_up_to"] == 60
    assert row["explanation"].startswith("3 kanban cards × 20")


def test_make_to_order_holds_nothing_and_flags_a_lead_time_that_does_not_fit() -> None:
    frame = pl.concat(
        [
            _frame(item="a", policy="make_to_order", lead_time_sd=0.0, customer_wait=10.0),
            _frame(item="b", policy="buy_to_order", lead_time_sd=0.0, customer_wait=5.0),
            _frame(item="c", policy="buy_to_order", customer_wait=None),
        ],
        how="diagonal",
    )
    plan = plan_policies(frame)
    assert plan["order_up_to"].to_list() == [0, 0, 0]
    assert plan["lead_time_ok"].to_list() == [True, False, None]
    assert "exceeds the 5 days customers accept" in plan["explanation"][1]


def test_missing_columns_and_unknown_policies_are_refused() -> None:
    with pytest.raises(PlanInputError, match="lead_time_mean"):
        plan_policies(_frame().drop("lead_time_mean"))
    with pytest.raises(PlanInputError, match="unknown policy"):
        plan_policies(_frame(policy="hope"))


@settings(max_examples=40, deadline=None)
@given(
    mean=st.floats(0.1, 500.0),
    cv=st.floats(0.1, 3.0),
    low=st.floats(0.5, 0.97),
    step=st.floats(0.001, 0.02),
    policy=st.sampled_from(["reorder_point", "min_max", "periodic"]),
)
def test_higher_service_never_lowers_the_reorder_point(
    mean: float, cv: float, low: float, step: float, policy: str
) -> None:
    frame = pl.concat(
        [
            _frame(policy=policy, demand_mean=mean, demand_sd=mean * cv, service_level=s)
            for s in (low, low + step)
        ]
    )
    lo, hi = plan_policies(frame)["reorder_point"].to_list()
    assert lo <= hi + 1e-9


def test_suggestions_net_the_position_and_date_orders_just_in_time() -> None:
    plan = plan_policies(
        pl.concat(
            [
                _frame(item="bolt", demand_mean=10.0, demand_sd=2.0, lead_time_mean=3.0),
                _frame(item="nut", demand_mean=10.0, demand_sd=2.0, lead_time_mean=3.0),
                _frame(
                    item="desk",
                    policy="make_to_order",
                    demand_mean=1.0,
                    demand_sd=1.0,
                    lead_time_mean=5.0,
                    pack_size=1.0,
                ),
            ],
            how="diagonal",
        )
    )
    bolt = plan.row(0, named=True)
    position = pl.DataFrame(
        {
            "item": ["bolt", "nut", "desk"],
            "location": ["main"] * 3,
            "on_hand": [bolt["order_up_to"] - 5.0, bolt["order_up_to"] + 100.0, 1.0],
            "open_supply": [0.0, 0.0, 0.0],
            "reserved": [0.0, 0.0, 3.0],
        }
    )
    today = dt.date(2026, 3, 2)
    out = suggest_orders(plan, position, today=today).sort("item")
    assert out["item"].to_list() == ["bolt", "desk"]
    bolt_row, desk_row = out.to_dicts()
    assert bolt_row["suggested_quantity"] == 5
    assert bolt_row["net_requirement"] == pytest.approx(bolt["order_up_to"] - 5 - 40)
    days_to_need = round((bolt["order_up_to"] - 5 - bolt["safety_stock"]) / 10)
    assert bolt_row["need_date"] == today + dt.timedelta(days=days_to_need)
    slack = round((bolt["order_up_to"] - 5 - bolt["safety_stock"]) / 10 - 3)
    assert bolt_row["order_by"] == max(today, today + dt.timedelta(days=slack))
    assert bolt_row["late"] == ((bolt["order_up_to"] - 5) / 10 < 3)  # runs out before arrival
    assert desk_row["suggested_quantity"] == 2
    assert desk_row["late"]
    assert "customer orders need 2" in desk_row["explanation"]


def test_plan_for_fifty_thousand_items_is_quick() -> None:
    rng = np.random.default_rng(1)
    n = 50_000
    mean = rng.gamma(0.7, 10, n)
    frame = pl.DataFrame(
        {
            "item": np.arange(n).astype(str),
            "location": "main",
            "policy": rng.choice(["reorder_point", "min_max", "periodic", "kanban"], n),
            "demand_mean": mean,
            "demand_sd": mean * rng.uniform(0.3, 2.0, n) + 0.1,
            "lead_time_mean": rng.integers(1, 30, n).astype(float),
        }
    )
    plan = plan_policies(frame)
    assert plan.height == n
    assert plan["reorder_point"].is_nan().sum() == 0


def test_price_breaks_choose_the_quantity_that_earns_the_discount() -> None:
    frame = pl.concat(
        [
            _frame(
                item=item,
                policy="min_max",
                demand_mean=1000 / 365,
                demand_sd=2.0,
                order_cost=100.0,
                holding_rate=0.2 / 365,
                unit_cost=5.0,
                break_quantities=quantities,
                break_prices=prices,
            )
            for item, quantities, prices in (
                ("discounted", [0.0, 500.0, 1000.0], [5.0, 4.8, 4.75]),
                ("list price", None, None),
            )
        ],
        how="diagonal_relaxed",
    )
    plan = plan_policies(frame)
    assert plan["order_quantity"].to_list() == [500, 448]
    assert plan["unit_price"].to_list() == [4.8, 5.0]


def test_price_break_lists_must_pair_up() -> None:
    frame = _frame(
        policy="min_max",
        order_cost=10.0,
        holding_rate=0.001,
        break_quantities=[0.0, 100.0],
        break_prices=[5.0],
    )
    with pytest.raises(PlanInputError, match="differ in length"):
        plan_policies(frame)


# Sourdough as the demo sells it: 15.65 a day, made in 1 day, keeps 1 day, periodic review.
SOURDOUGH_PER_DAY = 15.65
SOURDOUGH_SD_PER_DAY = 4.0


def _sourdough(period_days: float, shelf_days: float, **overrides: object) -> dict[str, Any]:
    """The forecast of one item as a plan run of that frequency sees it (per period)."""
    row: dict[str, object] = {
        "item": "BRD-001",
        "policy": "periodic",
        "demand_mean": SOURDOUGH_PER_DAY * period_days,
        "demand_sd": SOURDOUGH_SD_PER_DAY * np.sqrt(period_days),
        "lead_time_mean": 1.0 / period_days,
        "lead_time_sd": 0.0,
        "lead_time_receipts": 0,
        "shelf_life": shelf_days / period_days,
    }
    frame = _frame(**{**row, **overrides})
    return plan_policies(frame, period_days=period_days).row(0, named=True)


@pytest.mark.parametrize("period_days", [7.0, 365.25 / 12])
def test_shelf_life_caps_the_order_up_to_level_whatever_the_forecast_period(
    period_days: float,
) -> None:
    daily = _sourdough(1.0, 1.0)
    row = _sourdough(period_days, 1.0)
    # No level covers more than the lead time plus the day the bread keeps …
    assert row["order_up_to"] <= SOURDOUGH_PER_DAY * (1 + 1)
    # … and a weekly or monthly forecast plans what a daily one does.
    assert row["order_up_to"] == daily["order_up_to"]
    assert row["shelf_life_capped"]
    assert row["explanation"].startswith("order-up-to level 31, capped by the 1 days' shelf life")
    assert "95% fill would need" in row["explanation"]
    assert "1 days' review (shortened for the shelf life)" in row["explanation"]


@pytest.mark.parametrize("period_days", [1.0, 7.0, 365.25 / 12])
def test_a_perishable_is_reviewed_often_enough_to_keep_its_buffer(period_days: float) -> None:
    # It keeps 3 days: reviewing every 2 days leaves room for the safety stock, uncapped.
    row = _sourdough(period_days, 3.0)
    assert row["order_up_to"] <= SOURDOUGH_PER_DAY * (1 + 3)
    assert not row["shelf_life_capped"]
    assert row["safety_stock"] > 0
    assert "capped" not in row["explanation"]


@pytest.mark.parametrize("period_days", [1.0, 7.0, 365.25 / 12])
@pytest.mark.parametrize("policy", ["reorder_point", "min_max", "periodic", "kanban"])
def test_no_level_holds_more_than_sells_before_it_expires(policy: str, period_days: float) -> None:
    row = _sourdough(period_days, 2.0, policy=policy, order_cost=40.0, holding_rate=0.01)
    per_period = SOURDOUGH_PER_DAY * period_days
    lead, shelf = 1.0 / period_days, 2.0 / period_days
    assert row["order_up_to"] <= per_period * (lead + shelf) + 1e-9


def test_a_long_shelf_life_changes_nothing() -> None:
    fresh = plan_policies(_frame()).row(0, named=True)
    kept = plan_policies(_frame(shelf_life=365.0)).row(0, named=True)
    assert kept["order_up_to"] == fresh["order_up_to"]
    assert not kept["shelf_life_capped"]
