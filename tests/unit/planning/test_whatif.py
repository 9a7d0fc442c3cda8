"""What-if and disruption drills: baseline against scenario on the same history."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from leanstock.planning.simulate import Items
from leanstock.planning.whatif import (
    DemandChange,
    DrillCatalog,
    DrillResult,
    EventAdded,
    LeadTimeSlip,
    OtifDrop,
    ServiceChange,
    SupplierStop,
    run_drill,
)

N, PERIODS = 90, 80


def _drill_data(seed: int = 0) -> tuple[np.ndarray, DrillCatalog]:
    rng = np.random.default_rng(seed)
    demand = rng.poisson(rng.uniform(2.0, 20.0, N)[:, None], (N, PERIODS)).astype(float)
    items = Items.uniform(N, 2, unit_cost=3.0)
    backed = np.arange(N) % 2 == 0
    catalog = DrillCatalog.from_frame(
        [f"i{k}" for k in range(N)],
        items,
        pl.DataFrame(
            {
                "item": [f"i{k}" for k in range(N)],
                "supplier": [f"S{k % 3}" for k in range(N)],
                "category": ["bread" if k < 30 else "cake" for k in range(N)],
                "backup_lead_time": [4 if b else None for b in backed],
                "backup_unit_cost": [3.6 if b else None for b in backed],
            }
        ),
    )
    return demand, catalog


def _of(
    result: DrillResult, supplier: str | None = None, category: str | None = None
) -> pl.DataFrame:
    rows = result.by_item
    if supplier is not None:
        rows = rows.filter(pl.col("supplier") == supplier)
    if category is not None:
        rows = rows.filter(pl.col("category") == category)
    return rows


def _fill(rows: pl.DataFrame, which: str) -> float:
    demand = float(rows[f"{which}_demand"].sum())
    served = float((rows[f"{which}_fill_rate"].fill_null(1.0) * rows[f"{which}_demand"]).sum())
    return served / demand


def test_a_drill_that_changes_nothing_reports_no_change() -> None:
    demand, catalog = _drill_data()
    result = run_drill(demand, catalog, [OtifDrop("S1", on_time=1.0)])
    assert result.overall["baseline"] == result.overall["scenario"]
    assert result.by_item["fill_rate_change"].abs().max() == 0


def test_an_unannounced_slip_hurts_that_suppliers_items_and_a_known_one_less() -> None:
    demand, catalog = _drill_data()
    surprise = run_drill(demand, catalog, [LeadTimeSlip("S1", 3)])
    hit = _of(surprise, supplier="S1")
    spared = _of(surprise, supplier="S0")
    assert _fill(hit, "scenario") < _fill(hit, "baseline") - 0.05
    assert _fill(hit, "scenario") - _fill(hit, "baseline") < _fill(spared, "scenario") - _fill(
        spared, "baseline"
    )
    assert surprise.overall["change"]["stockout_periods"] > 0
    known = run_drill(demand, catalog, [LeadTimeSlip("S1", 3, known=True)])
    assert _fill(_of(known, supplier="S1"), "scenario") > _fill(hit, "scenario")


def test_late_deliveries_lower_service() -> None:
    demand, catalog = _drill_data()
    result = run_drill(demand, catalog, [OtifDrop("S2", on_time=0.5, late_by=2)])
    late = _of(result, supplier="S2")
    assert _fill(late, "scenario") < _fill(late, "baseline")


def test_a_stopped_supplier_hands_over_to_the_backup_or_leaves_nothing() -> None:
    demand, catalog = _drill_data()
    result = run_drill(demand, catalog, [SupplierStop("S0")])
    stopped = _of(result, supplier="S0")
    orphans = stopped.filter(pl.col("no_supply"))
    backed = stopped.filter(~pl.col("no_supply"))
    assert orphans["item"].to_list() == [f"i{k}" for k in range(N) if k % 3 == 0 and k % 2]
    assert orphans["scenario_orders"].sum() == 0
    assert _fill(orphans, "scenario") < 0.6
    assert (backed["backup_extra_spend"] > 0).all()
    assert result.overall["items_without_supply"] == orphans.height
    assert result.overall["backup_extra_spend"] == pytest.approx(backed["backup_extra_spend"].sum())
    assert _of(result, supplier="S1")["backup_extra_spend"].sum() == 0


def test_category_demand_rises_by_the_change_and_the_rest_stays() -> None:
    demand, catalog = _drill_data()
    result = run_drill(demand, catalog, [DemandChange("bread", 0.2)])
    bread, cake = _of(result, category="bread"), _of(result, category="cake")
    assert (bread["scenario_demand"] / bread["baseline_demand"]).to_list() == pytest.approx(
        [1.2] * 30
    )
    assert cake["scenario_demand"].to_list() == cake["baseline_demand"].to_list()
    assert bread["scenario_stock_value"].sum() > bread["baseline_stock_value"].sum()


def test_a_known_event_is_served_better_than_a_surprise() -> None:
    demand, catalog = _drill_data()
    known = run_drill(demand, catalog, [EventAdded(20, 3, 2.5, category="cake")])
    surprise = run_drill(demand, catalog, [EventAdded(20, 3, 2.5, category="cake", known=False)])
    assert (
        _fill(_of(known, category="cake"), "scenario")
        > _fill(_of(surprise, category="cake"), "scenario") + 0.02
    )


def test_a_higher_service_target_costs_stock() -> None:
    demand, catalog = _drill_data()
    result = run_drill(demand, catalog, [ServiceChange(0.99)])
    assert result.overall["change"]["average_stock_value"] > 0
    assert result.overall["change"]["fill_rate"] > 0


def test_drills_refuse_what_they_cannot_play() -> None:
    demand, catalog = _drill_data()
    with pytest.raises(ValueError, match="supplier 'NOPE'"):
        run_drill(demand, catalog, [SupplierStop("NOPE")])
    with pytest.raises(ValueError, match="category 'toys'"):
        run_drill(demand, catalog, [DemandChange("toys", 0.1)])
    with pytest.raises(ValueError, match="at least one scenario"):
        run_drill(demand, catalog, [])


def test_chunks_play_the_same_drill() -> None:
    demand, catalog = _drill_data()
    whole = run_drill(demand, catalog, [LeadTimeSlip("S1", 2)])
    split = run_drill(demand, catalog, [LeadTimeSlip("S1", 2)], chunks=3)
    assert split.by_item["item"].to_list() == whole.by_item["item"].to_list()
    assert split.overall["scenario"]["fill_rate"] == pytest.approx(
        whole.overall["scenario"]["fill_rate"], abs=0.02
    )


@pytest.mark.slow
def test_a_drill_runs_on_dask_as_it_does_locally_in_chunks() -> None:
    distributed = pytest.importorskip("distributed")
    demand, catalog = _drill_data()
    local = run_drill(demand, catalog, [SupplierStop("S0")], chunks=2)
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1) as client:
        remote = run_drill(
            demand,
            catalog,
            [SupplierStop("S0")],
            engine="dask",
            chunks=2,
            scheduler=client.scheduler.address,
        )
    assert remote.overall == local.overall
