"""Forecast runs, an item's forecast and its accuracy, and the event calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from leanstock.entrypoints.api.bounds import Id
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import In, Out, PageOut
from leanstock.planning.forecast import DEFAULT_QUANTILES
from leanstock.services import forecasting

router = APIRouter(tags=["forecasts"])


class ForecastRunIn(In):
    horizon: int = Field(gt=0, le=400, description="Periods ahead.")
    freq: str = Field(default="W", pattern="^[DWMdwm]$", description="D, W or M.")
    thorough: bool = Field(
        default=False,
        description="Give every smooth and erratic series the full pool, with ARIMA (slow).",
    )
    quantiles: list[float] = Field(default=list(DEFAULT_QUANTILES), min_length=1)
    since: date | None = Field(default=None, description="Use history from this day on.")


class ForecastRunOut(Out):
    id: int
    created_at: datetime
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


class ForecastPointOut(Out):
    location: str
    ds: date
    forecast: float
    quantiles: dict[str, float | None]


class ItemForecastOut(Out):
    sku: str
    run: ForecastRunOut
    points: list[ForecastPointOut]


class TotalPointOut(Out):
    ds: date
    forecast: float
    quantiles: dict[str, float | None]


class TotalForecastOut(Out):
    level: str
    key: str
    run_id: int
    points: list[TotalPointOut]


class ModelAccuracyOut(Out):
    location: str
    model: str
    chosen: bool
    demand_class: str | None
    metrics: dict[str, Any]


class ItemAccuracyOut(Out):
    sku: str
    run_id: int
    models: list[ModelAccuracyOut]


class EventIn(In):
    name: str = Field(min_length=1, max_length=200)
    starts_on: date
    ends_on: date
    skus: list[str] | None = None
    categories: list[str] | None = None
    uplift: float | None = Field(
        default=None, description="Demand multiplier; estimated from past occurrences if left out."
    )


class EventOut(Out):
    id: int
    name: str
    starts_on: date
    ends_on: date
    skus: list[str] | None
    categories: list[str] | None
    uplift: float | None


@router.post("/forecast-runs", status_code=201, dependencies=[permit("forecast:run")])
def run_forecast(body: ForecastRunIn, uow: UowDep) -> ForecastRunOut:
    """Forecast every item-location from its sales history and store the run.

    Runs to completion before answering: seconds for a small business; use the CLI
    (`leanstock forecast`, with `--engine dask` for big catalogs) for long runs.
    """
    run = forecasting.run_forecast(
        uow,
        body.horizon,
        body.freq.upper(),
        thorough=body.thorough,
        quantiles=tuple(body.quantiles),
        since=body.since,
    )
    return ForecastRunOut.model_validate(run)


@router.get("/forecast-runs", dependencies=[permit("forecast:read")])
def list_forecast_runs(
    uow: UowDep,
    limit: Limit = 20,
    offset: Offset = 0,
) -> PageOut[ForecastRunOut]:
    return PageOut[ForecastRunOut].model_validate(forecasting.forecast_runs(uow, limit, offset))


@router.get("/forecast-runs/{run_id}", dependencies=[permit("forecast:read")])
def get_forecast_run(run_id: Id, uow: UowDep) -> ForecastRunOut:
    return ForecastRunOut.model_validate(forecasting.get_forecast_run(uow, run_id))


@router.get("/items/{sku}/forecast", dependencies=[permit("forecast:read")])
def item_forecast(
    sku: str, uow: UowDep, location: str | None = None, run: Id | None = None
) -> ItemForecastOut:
    """The item's forecast per location and period, with quantiles (newest run by default)."""
    found, rows = forecasting.item_forecast(uow, sku, location, run)
    return ItemForecastOut(
        sku=sku,
        run=ForecastRunOut.model_validate(found),
        points=[ForecastPointOut.model_validate(r) for r in rows],
    )


@router.get("/items/{sku}/forecast-accuracy", dependencies=[permit("forecast:read")])
def item_accuracy(
    sku: str, uow: UowDep, location: str | None = None, run: Id | None = None
) -> ItemAccuracyOut:
    """Backtest accuracy (MASE, RMSSE, WAPE, bias, coverage) of each candidate model."""
    found, rows = forecasting.item_accuracy(uow, sku, location, run)
    return ItemAccuracyOut(
        sku=sku, run_id=found.id, models=[ModelAccuracyOut.model_validate(r) for r in rows]
    )


@router.get("/forecast-totals/{level}/{key}", dependencies=[permit("forecast:read")])
def forecast_total(level: str, key: str, uow: UowDep, run: Id | None = None) -> TotalForecastOut:
    """The reconciled forecast of an item over its locations (level `item`, key its SKU) or
    of a category (level `category`): the item-location forecasts add up to it."""
    found, rows = forecasting.forecast_total(uow, level, key, run)
    return TotalForecastOut(
        level=level,
        key=key,
        run_id=found.id,
        points=[TotalPointOut.model_validate(r) for r in rows],
    )


@router.post("/events", status_code=201, dependencies=[permit("forecast:write")])
def add_event(body: EventIn, uow: UowDep) -> EventOut:
    """Put a promotion or holiday on the calendar the forecasts use."""
    event_id = forecasting.add_event(
        uow, body.name, body.starts_on, body.ends_on, body.skus, body.categories, body.uplift
    )
    return EventOut(id=event_id, **body.model_dump())


@router.get("/events", dependencies=[permit("forecast:read")])
def list_events(uow: UowDep) -> list[EventOut]:
    return [EventOut.model_validate(e) for e in forecasting.events(uow)]
