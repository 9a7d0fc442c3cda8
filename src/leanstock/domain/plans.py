"""A plan run's review: draft → approved → released (or partially released), line by line.

The planner proposes lines (suggested orders); a manager edits or drops them while the plan
is a draft, approves it, and releases it into orders. A line whose order is refused keeps
the reason and fails; the rest go ahead.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from leanstock.domain.errors import InvalidTransition


class PlanStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    RELEASED = "released"
    PARTIALLY_RELEASED = "partially_released"


class PlanLineStatus(StrEnum):
    PROPOSED = "proposed"
    EDITED = "edited"
    DROPPED = "dropped"
    RELEASED = "released"
    FAILED = "failed"


# Lines a release turns into orders.
LIVE = (PlanLineStatus.PROPOSED, PlanLineStatus.EDITED)
FAILED = PlanLineStatus.FAILED


def require(run_id: int, status: str, wanted: PlanStatus, what: str) -> None:
    """Refuse `what` unless the plan is `wanted` (only a draft changes; only an approved plan
    is released)."""
    if status != wanted:
        raise InvalidTransition(f"Plan {run_id} is {status}; {what}.")


def edited(quantity: Decimal) -> PlanLineStatus:
    """A manager's quantity replaces the suggestion; zero drops the line."""
    return PlanLineStatus.EDITED if quantity > 0 else PlanLineStatus.DROPPED


def released(failed: int) -> PlanStatus:
    return PlanStatus.RELEASED if failed == 0 else PlanStatus.PARTIALLY_RELEASED


def releasable(run_id: int, status: str, retry_failed: bool) -> tuple[PlanLineStatus, ...]:
    """The line statuses a release of a plan in `status` turns into orders (or why none)."""
    if status == PlanStatus.APPROVED:
        return (*LIVE, FAILED) if retry_failed else LIVE
    if status == PlanStatus.PARTIALLY_RELEASED:
        if retry_failed:
            return (*LIVE, FAILED)
        raise InvalidTransition(
            f"Plan {run_id} is partially released: some lines failed (see their reasons). Fix "
            "what they name, edit or drop them if need be, and release again with "
            "--retry-failed (API: retry_failed=true)."
        )
    if status == PlanStatus.DRAFT:
        raise InvalidTransition(f"Plan {run_id} is a draft; approve it before releasing.")
    raise InvalidTransition(f"Plan {run_id} is {status}; nothing is left to release.")
