"""Supplier scorecards: on time (first confirmed and requested), in full, OTIF, lead time,
acknowledgements and defects, per supplier and item, and the ranking across suppliers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from leanstock.domain.access import Actor
from leanstock.domain.errors import NotFound
from leanstock.entrypoints.api.bounds import Day
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.schemas import Out
from leanstock.services import scorecards

router = APIRouter(tags=["suppliers"])
Reader = Annotated[Actor, permit("scorecard:read")]
Since = Annotated[Day | None, Query(description="First receipt date counted (YYYY-MM-DD).")]
Until = Annotated[Day | None, Query(description="Last receipt date counted (YYYY-MM-DD).")]
Share = Annotated[float | None, Query(ge=0, le=1)]


class ScorecardOut(Out):
    supplier: str
    since: date | None
    until: date | None
    figures: scorecards.Figures
    lead_time_trend_days_per_month: float | None
    price_variance: float | None
    below_standard: bool
    reasons: list[str]
    monthly: list[dict[str, Any]]
    items: list[dict[str, Any]]


class RankingOut(Out):
    since: date | None
    until: date | None
    standard: dict[str, float]
    suppliers: list[ScorecardOut]


def _standard(otif: float | None, defect_rate: float | None) -> scorecards.Standard:
    base = scorecards.Standard()
    return scorecards.Standard(
        otif=base.otif if otif is None else otif,
        defect_rate=base.defect_rate if defect_rate is None else defect_rate,
    )


@router.get("/suppliers/{code}/scorecard")
def supplier_scorecard(
    code: str,
    uow: UowDep,
    actor: Reader,
    since: Since = None,
    until: Until = None,
    otif_standard: Share = None,
    defect_standard: Share = None,
) -> ScorecardOut:
    """How one supplier delivers, over the window and month by month, overall and per item;
    flagged with the reasons when below the standard. A supplier user sees only its own."""
    if not actor.sees_supplier(code):
        raise NotFound("supplier", code, "code")
    card = scorecards.scorecard(uow, code, since, until, _standard(otif_standard, defect_standard))
    return ScorecardOut.model_validate(card, from_attributes=True)


@router.get("/supplier-scorecards")
def supplier_ranking(
    uow: UowDep,
    actor: Annotated[Actor, permit("supplier:read")],
    since: Since = None,
    until: Until = None,
    otif_standard: Share = None,
    defect_standard: Share = None,
) -> RankingOut:
    """Every supplier side by side, best on time in full first: the ranking."""
    standard = _standard(otif_standard, defect_standard)
    cards = scorecards.ranking(uow, since, until, standard)
    return RankingOut(
        since=since,
        until=until,
        standard={
            "otif": standard.otif,
            "defect_rate": standard.defect_rate,
            "ack_hours": standard.ack_hours,
        },
        suppliers=[ScorecardOut.model_validate(c, from_attributes=True) for c in cards],
    )
