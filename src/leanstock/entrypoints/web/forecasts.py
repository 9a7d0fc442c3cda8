"""Forecasts: the runs with their backtest accuracy, and one run's accuracy by model and by
demand class, from the same service as the API's `/forecast-runs`. (Each item's chart is on
its item page.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leanstock.domain.access import Actor
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.render import render
from leanstock.services import forecasting

router = APIRouter(include_in_schema=False)
PAGE = 20
SCORES = ("mase", "rmsse", "wape", "bias")


@router.get("/forecasts")
def forecasts(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("forecast:read")],
    offset: int = 0,
) -> Response:
    page = forecasting.forecast_runs(uow, PAGE, max(offset, 0))
    context = {"page": page, "scores": SCORES, "query": ""}
    return render(request, "forecasts/index.html", context)


@router.get("/forecasts/{run_id}")
def forecast_run(
    run_id: int, request: Request, uow: UowDep, actor: Annotated[Actor, permit("forecast:read")]
) -> Response:
    run, by_class = forecasting.accuracy_by_class(uow, run_id)
    models = run.accuracy.get("models") or []
    coverage = sorted({k for row in models for k in row if k.startswith("coverage")})
    context = {
        "run": run,
        "models": models,
        "by_class": by_class,
        "scores": SCORES,
        "coverage": coverage,
    }
    return render(request, "forecasts/show.html", context)
