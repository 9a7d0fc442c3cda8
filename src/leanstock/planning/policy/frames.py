"""The plan frame's contract: its columns, their defaults, and the checks on them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from leanstock.planning.policy.kinds import POLICIES

FloatArray = npt.NDArray[np.float64]

REQUIRED_COLUMNS: Final = ("item", "location", "policy", "demand_mean", "lead_time_mean")

OPTIONAL_COLUMNS: Final[Mapping[str, object]] = {
    "demand_sd": None,
    "demand_p90": None,
    "demand_mean_sd": 0.0,
    "lead_time_sd": 0.0,
    "lead_time_receipts": 0,
    "review_period": None,
    "service_level": None,
    "service_measure": "fill_rate",
    "abc_class": None,
    "unit_cost": 1.0,
    "order_cost": 0.0,
    "holding_rate": 0.0,
    "moq": 0.0,
    "pack_size": 1.0,
    "max_order": float("inf"),
    "shelf_life": float("inf"),
    "container_size": None,
    "kanban_safety": 0.1,
    "customer_wait": None,
    "integral_units": True,
}


class PlanInputError(ValueError):
    """The plan frame is missing a column or holds a value the maths cannot use."""


def column(frame: pl.DataFrame, name: str) -> FloatArray:
    return frame.get_column(name).cast(pl.Float64).to_numpy()


def price_breaks(frame: pl.DataFrame) -> tuple[FloatArray, FloatArray] | None:
    """`break_quantities` and `break_prices` list columns as NaN-padded (n, m) arrays."""
    if "break_quantities" not in frame.columns or "break_prices" not in frame.columns:
        return None
    lists = frame.select(
        pl.col("break_quantities").cast(pl.List(pl.Float64)),
        pl.col("break_prices").cast(pl.List(pl.Float64)),
    )
    uneven = lists.select(
        pl.col("break_quantities").list.len() != pl.col("break_prices").list.len()
    ).to_series()
    if uneven.any():
        row = int(uneven.arg_true()[0])
        raise PlanInputError(f"row {row}: break_quantities and break_prices differ in length")
    width = int(lists.get_column("break_prices").list.len().fill_null(0).to_numpy().max(initial=0))
    if width == 0:
        return None
    columns = lists.select(
        *(
            pl.col("break_quantities").list.get(j, null_on_oob=True).alias(f"q{j}")
            for j in range(width)
        ),
        *(
            pl.col("break_prices").list.get(j, null_on_oob=True).alias(f"p{j}")
            for j in range(width)
        ),
    ).fill_null(np.nan)
    values = columns.to_numpy().astype(np.float64)
    return values[:, :width], values[:, width:]


def with_defaults(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise PlanInputError(f"plan frame is missing column(s): {', '.join(missing)}")
    if "demand_sd" not in frame.columns and "demand_p90" not in frame.columns:
        raise PlanInputError("plan frame needs demand_sd or demand_p90")
    unknown = set(frame.get_column("policy").unique().to_list()) - set(POLICIES)
    if unknown:
        raise PlanInputError(f"unknown policy {sorted(map(str, unknown))}; one of {POLICIES}")
    extra = [
        pl.lit(default).alias(name)
        for name, default in OPTIONAL_COLUMNS.items()
        if name not in frame.columns
    ]
    out = frame.with_columns(extra) if extra else frame
    return out.with_columns(
        pl.col(name).cast(pl.Float64)
        for name in (
            "demand_sd",
            "demand_p90",
            "review_period",
            "service_level",
            "container_size",
            "customer_wait",
        )
    )
