"""`leanstock simulate`: replay a demand history under the planner's policy."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leanstock.entrypoints.cli.app import app, console, err_console

if TYPE_CHECKING:
    import polars as pl

    from leanstock.planning.simulate import CatalogComparison, PreparedHistory


class PolicyChoice(StrEnum):
    auto = "auto"
    periodic = "periodic"
    baseline = "baseline"


class BadInput(Exception):
    """A user-facing input problem, already worded for one red line."""


def _read_csv(path: Path, label: str) -> pl.DataFrame:
    import polars as pl

    try:
        return pl.read_csv(path, infer_schema_length=0)
    except FileNotFoundError as error:
        raise BadInput(f"{label} {path}: file not found") from error
    except (pl.exceptions.PolarsError, UnicodeDecodeError, OSError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise BadInput(f"{label} {path}: not a readable CSV file ({first})") from error


def _load(demand_path: Path, items_path: Path) -> PreparedHistory:
    from leanstock.planning.simulate import SimulationInputError, prepare_history

    demand = _read_csv(demand_path, "DEMAND")
    items = _read_csv(items_path, "ITEMS")
    try:
        return prepare_history(demand, items)
    except SimulationInputError as error:
        path = demand_path if error.table == "demand" else items_path
        # The header is line 1 of the file, so frame row i is file row i + 2.
        where = f"row {error.row + 2}" if error.row is not None else "row 1 (header)"
        raise BadInput(f"{path}: {where}, column '{error.column}': {error.problem}") from error


@app.command()
def simulate(
    demand: Annotated[
        Path, typer.Option("--demand", help="CSV with columns item, ds, qty (one row per sale).")
    ],
    items: Annotated[
        Path,
        typer.Option(
            "--items",
            help="CSV with item, lead_time (periods), unit_cost; optional moq, pack_size, "
            "order_cost, holding_rate.",
        ),
    ],
    policy: Annotated[
        PolicyChoice,
        typer.Option(
            help="auto: the planner; periodic: the planner with (R, S) only; baseline: "
            "order up to μ·P + z·σ·√P with one z."
        ),
    ] = PolicyChoice.auto,
    service_level: Annotated[
        float, typer.Option(min=0.5, max=0.9999, help="Target service level.")
    ] = 0.95,
    fill_rate: Annotated[
        bool, typer.Option("--fill-rate", help="Target a fill rate instead of a cycle service.")
    ] = False,
    warmup: Annotated[
        float, typer.Option(min=0.05, max=0.95, help="Share of the history for fitting only.")
    ] = 0.5,
    lost_sales: Annotated[
        bool, typer.Option("--lost-sales", help="Lose unmet demand instead of backordering.")
    ] = False,
    top: Annotated[int, typer.Option(min=0, help="Items to show, by demand.")] = 15,
    catalog_target: Annotated[
        bool,
        typer.Option(
            "--catalog-target",
            help="The service level is one fill rate for the whole catalogue (weighted by "
            "demand), allocated over the items at the least stock value by each item's "
            "unit_cost; also replays one target per item and reports the money saved.",
        ),
    ] = False,
) -> None:
    """Replay DEMAND under the policy, re-planning each period from the past only.

    Prints service and stock per item and overall; the last line is one JSON object.
    """
    from leanstock.planning.simulate import (
        compare_catalog_target,
        results_by_item,
        simulate_history,
    )

    try:
        history = _load(demand, items)
    except BadInput as error:
        err_console.print(f"[red]{error}[/]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    comparison: CatalogComparison | None = None
    try:
        if catalog_target:
            if not fill_rate or policy == PolicyChoice.baseline:
                raise ValueError(
                    "--catalog-target allocates a fill rate over the planner's items: "
                    "add --fill-rate and use --policy auto or periodic"
                )
            comparison = compare_catalog_target(
                history,
                policy=policy.value,
                service_level=service_level,
                warmup_share=warmup,
                backorders=not lost_sales,
            )
            result = comparison.catalog
        else:
            result = simulate_history(
                history,
                policy=policy.value,
                service_level=service_level,
                fill_rate=fill_rate,
                warmup_share=warmup,
                backorders=not lost_sales,
            )
    except ValueError as error:
        err_console.print(f"[red]{error}[/]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None

    per_item = results_by_item(result, history.item_ids).sort("demand", descending=True)
    target = "one catalogue target, " if catalog_target else ""
    table = Table(
        title=f"Simulated {policy.value} policy, {target}{result.periods} periods measured"
    )
    for name in (
        "item",
        "demand",
        "fill rate",
        "cycle service",
        "avg on hand",
        "avg value",
        "orders",
        "stock-out periods",
    ):
        table.add_column(name, justify="left" if name == "item" else "right")
    for row in per_item.head(top).iter_rows(named=True):
        fill = "–" if row["fill_rate"] is None else f"{row['fill_rate']:.1%}"
        table.add_row(
            str(row["item"]),
            f"{row['demand']:g}",
            fill,
            f"{row['cycle_service_level']:.1%}",
            f"{row['average_on_hand']:.1f}",
            f"{row['average_on_hand_value']:.2f}",
            str(row["orders"]),
            str(row["stockout_periods"]),
        )
    overall = result.overall()
    table.add_section()
    table.add_row(
        f"all {overall['items']} items",
        f"{float(result.demand.sum()):g}",
        f"{result.fill_rate:.1%}",
        f"{result.cycle_service:.1%}",
        f"{result.average_on_hand:.1f}",
        f"{result.average_value:.2f}",
        str(overall["orders"]),
        str(overall["stockout_periods"]),
    )
    console.print(table)
    if comparison is not None:
        each = comparison.per_item
        console.print(
            f"One {service_level:.1%} target per item: fill {each.fill_rate:.1%}, stock "
            f"value {each.average_value:,.2f}. One catalogue target: fill "
            f"{result.fill_rate:.1%}, stock value {result.average_value:,.2f}, "
            f"{each.average_value - result.average_value:,.2f} "
            f"({comparison.saving:.1%}) less."
        )
    console.print(
        f"Forecast fitting {result.forecast_seconds:.3f} s; simulation "
        f"{result.simulation_seconds:.3f} s ({overall['item_periods_per_second']:,} "
        "item-periods/s)."
    )
    print(
        json.dumps(
            {
                "policy": policy.value,
                "service_level": service_level,
                "measure": "fill_rate" if fill_rate else "cycle_service",
                "catalog_target": catalog_target,
                **overall,
                **(comparison.overall() if comparison is not None else {}),
            }
        )
    )
