"""Forecast runs: read the demand history, run the engine, keep forecasts and their accuracy.

Each run is stored with its settings, its forecasts per item-location and period, and its
backtest accuracy per series and model, so accuracy can be followed from run to run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from leanstock.domain.errors import InvalidInput
from leanstock.domain.events import Changed, created
from leanstock.planning.forecast.accuracy import quantile_column
from leanstock.planning.forecast.prepare import ForecastInputError
from leanstock.planning.forecast.quantiles import DEFAULT_QUANTILES
from leanstock.planning.periods import PERIODS
from leanstock.services.orders import demand_history
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import UnitOfWork
from leanstock.services.retry import retrying

if TYPE_CHECKING:
    from leanstock.planning.forecast.engine import Progress


@dataclass(frozen=True)
class ForecastRun:
    id: int
    created_at: Any
    freq: str
    horizon: int
    engine: str
    thorough: bool
    quantiles: list[float]
    series: int
    history_from: date | None
    history_to: date | None
    wall_seconds: float
    accuracy: dict[str, Any]


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: a score that could not be computed is stored as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: _finite(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


def event_calendar(uow: UnitOfWork) -> pl.DataFrame | None:
    """The stored events as the engine's calendar frame (None when there are none)."""
    with uow:
        rows = uow.planning.events()
    if not rows:
        return None
    return pl.DataFrame(
        {
            "name": [r["name"] for r in rows],
            "start": [r["starts_on"] for r in rows],
            "end": [r["ends_on"] for r in rows],
            "items": [r["skus"] for r in rows],
            "categories": [r["categories"] for r in rows],
            "uplift": [r["uplift"] for r in rows],
        },
        schema={
            "name": pl.Utf8,
            "start": pl.Date,
            "end": pl.Date,
            "items": pl.List(pl.Utf8),
            "categories": pl.List(pl.Utf8),
            "uplift": pl.Float64,
        },
    )


def _with_categories(uow: UnitOfWork, history: pl.DataFrame) -> pl.DataFrame:
    with uow:
        items = uow.catalog.items(limit=1_000_000)
    categories = pl.DataFrame(
        {"item": [i.sku for i in items.items], "category": [i.category for i in items.items]}
    )
    return history.join(categories, on="item", how="left")


def _complete_periods(history: pl.DataFrame, freq: str) -> pl.DataFrame:
    """The periods that have ended. The one still running holds only part of its demand, and
    the forecaster reads every series up to the last period of any: a week just begun with a
    sale of one item would read as a week without demand for all the others (and forecast
    them at zero). With nothing but the running period, it is all there is to go on."""
    if history.height == 0:
        return history
    running = (
        pl.DataFrame({"ds": [datetime.now(UTC).date()]})
        .select(pl.col("ds").dt.truncate(PERIODS[freq.strip().upper()].interval))
        .item()
    )
    ended = history.filter(pl.col("ds") < running)
    return ended if ended.height else history


def run_forecast(
    uow: UnitOfWork,
    horizon: int,
    freq: str = "W",
    *,
    engine: str = "local",
    scheduler: str | None = None,
    thorough: bool = False,
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
    since: date | None = None,
    progress: Progress | None = None,
) -> ForecastRun:
    """Forecast every item-location with sales history `horizon` periods ahead, and store it.

    The history is demand at order time (sales order lines, including what could not be
    served); periods with a stock-out are censored, not taken as low demand.
    """
    started = time.perf_counter()
    history = _complete_periods(demand_history(uow, freq, since), freq)
    if history.height == 0:
        raise InvalidInput(
            "There is no sales history to forecast from yet: confirm some sales orders first.",
            "history",
        )
    history = _with_categories(uow, history)
    from leanstock.planning.forecast.engine import forecast  # seconds to import: only here

    try:
        result = forecast(
            history,
            horizon,
            freq,
            quantiles=quantiles,
            events=event_calendar(uow),
            engine=engine,
            scheduler=scheduler,
            thorough=thorough,
            progress=progress,
        )
    except ForecastInputError as error:
        raise InvalidInput(str(error), "forecast") from error
    overall = _records(result.accuracy_overall)
    selected = [row for row in overall if row.get("model") == "selected"]
    run = {
        "freq": freq.upper(),
        "horizon": horizon,
        "engine": engine,
        "thorough": thorough,
        "quantiles": list(result.quantiles),
        "series": result.selection.height,
        "history_from": history["ds"].min(),
        "history_to": history["ds"].max(),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "accuracy": {"overall": selected[0] if selected else None, "models": overall},
    }
    _store(uow, run, result)
    with uow:
        return ForecastRun(**uow.planning.forecast_run(None))


@retrying
def _store(uow: UnitOfWork, run: dict[str, Any], result: Any) -> int:
    columns = [quantile_column(q) for q in result.quantiles]
    with uow:
        items, places = uow.planning.ids()
        run_id = uow.planning.add_forecast_run(run)
        uow.planning.add_forecast_values(
            [
                {
                    "run_id": run_id,
                    "item_id": items[row["item"]],
                    "location_id": places[row["location"]],
                    "ds": row["ds"],
                    "forecast": float(row["forecast"]),
                    "quantiles": {c: _finite(float(row[c])) for c in columns},
                }
                for row in result.forecast.iter_rows(named=True)
            ]
        )
        uow.planning.add_forecast_totals(
            [
                {
                    "run_id": run_id,
                    "level": row["level"],
                    "key": row["item"] if row["level"] == "item" else row["category"],
                    "ds": row["ds"],
                    "forecast": float(row["forecast"]),
                    "quantiles": {c: _finite(float(row[c])) for c in columns},
                }
                for row in result.aggregates.iter_rows(named=True)
            ]
        )
        selection = {(r["item"], r["location"]): r for r in result.selection.iter_rows(named=True)}
        uow.planning.add_forecast_accuracy(
            [
                {
                    "run_id": run_id,
                    "item_id": items[row["item"]],
                    "location_id": places[row["location"]],
                    "model": row["model"],
                    "chosen": row["model"] == "selected",
                    "demand_class": selection.get((row["item"], row["location"]), {}).get(
                        "demand_class"
                    ),
                    "metrics": {
                        k: _finite(v)
                        for k, v in row.items()
                        if k not in ("item", "location", "model")
                    },
                }
                for row in result.accuracy.iter_rows(named=True)
            ]
        )
        kept = ("freq", "horizon", "engine", "thorough", "series", "history_from", "history_to")
        values = {k: run[k] for k in kept if k in run}
        uow.record(Changed(subject=f"forecast:{run_id}", verb="forecast_run", values=values))
        uow.commit()
    return run_id


def forecast_runs(uow: UnitOfWork, limit: int = 20, offset: int = 0) -> Page[ForecastRun]:
    limit, offset = page_bounds(limit, offset)
    with uow:
        rows, total = uow.planning.forecast_runs(limit, offset)
    return Page([ForecastRun(**r) for r in rows], total, limit, offset)


def get_forecast_run(uow: UnitOfWork, run_id: int | None = None) -> ForecastRun:
    """A stored run, or the newest one."""
    with uow:
        return ForecastRun(**uow.planning.forecast_run(run_id))


def item_forecast(
    uow: UnitOfWork, sku: str, location: str | None = None, run_id: int | None = None
) -> tuple[ForecastRun, list[dict[str, Any]]]:
    """An item's forecast per location and period from a run (the newest by default)."""
    uow.visibility.require_location(location)
    with uow:
        item_id = uow.catalog.item(sku).id
        location_id = uow.catalog.location(location).id if location is not None else None
        run = ForecastRun(**uow.planning.forecast_run(run_id))
        rows = uow.planning.forecast_values(run.id, item_id, location_id)
    return run, rows


def item_accuracy(
    uow: UnitOfWork, sku: str, location: str | None = None, run_id: int | None = None
) -> tuple[ForecastRun, list[dict[str, Any]]]:
    """Backtest accuracy of every candidate model for an item, and which one was chosen."""
    uow.visibility.require_location(location)
    with uow:
        item_id = uow.catalog.item(sku).id
        location_id = uow.catalog.location(location).id if location is not None else None
        run = ForecastRun(**uow.planning.forecast_run(run_id))
        rows = uow.planning.forecast_accuracy(run.id, item_id, location_id)
    return run, rows


def accuracy_by_class(
    uow: UnitOfWork, run_id: int | None = None
) -> tuple[ForecastRun, list[dict[str, Any]]]:
    """A run's (the newest by default) backtest scores per demand class and model: mean MASE,
    RMSSE, WAPE and bias over the series of the class."""
    with uow:
        run = ForecastRun(**uow.planning.forecast_run(run_id))
        rows = uow.planning.forecast_accuracy_by_class(run.id)
    return run, [{k: _finite(v) for k, v in row.items()} for row in rows]


def forecast_total(
    uow: UnitOfWork, level: str, key: str, run_id: int | None = None
) -> tuple[ForecastRun, list[dict[str, Any]]]:
    """The reconciled forecast of an item over all its locations, or of a category.

    The item-location forecasts of the run add up to it; it is stored where the run had
    an item at two or more locations (level "item") or a category of two or more items
    ("category").
    """
    if level not in ("item", "category"):
        raise InvalidInput("level is item or category.", "level")
    with uow:
        if level == "item":
            uow.catalog.item(key)
        run = ForecastRun(**uow.planning.forecast_run(run_id))
        rows = uow.planning.forecast_totals(run.id, level, key)
    return run, rows


@retrying
def add_event(
    uow: UnitOfWork,
    name: str,
    starts_on: date,
    ends_on: date,
    skus: list[str] | None = None,
    categories: list[str] | None = None,
    uplift: float | None = None,
) -> int:
    """Put a promotion or holiday on the calendar; its uplift is estimated when not given."""
    if ends_on < starts_on:
        raise InvalidInput("An event ends on or after the day it starts.", "ends_on")
    if uplift is not None and not (0 < uplift < 100):
        raise InvalidInput("uplift is a demand multiplier between 0 and 100, e.g. 1.3.", "uplift")
    with uow:
        for sku in skus or []:
            uow.catalog.item(sku, "skus")
        event_id = uow.planning.add_event(
            name.strip(), starts_on, ends_on, skus, categories, uplift
        )
        values = {
            "name": name.strip(),
            "starts_on": starts_on,
            "ends_on": ends_on,
            "skus": skus,
            "categories": categories,
            "uplift": uplift,
        }
        uow.record(
            Changed(subject=f"event:{event_id}", verb="event_create", values=created(values))
        )
        uow.commit()
    return event_id


def events(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return uow.planning.events()
