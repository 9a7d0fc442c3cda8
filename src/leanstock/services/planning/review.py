"""Reviewing a plan run: a manager edits or drops its lines, approves it, and releases it into
purchase, production and transfer orders (`domain.plans`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from leanstock.domain.catalog import whole
from leanstock.domain.errors import Conflict, DomainError, NotFound
from leanstock.domain.events import Changed, diff
from leanstock.domain.orders import SupplyKind
from leanstock.domain.plans import (
    FAILED,
    LIVE,
    PlanLineStatus,
    PlanStatus,
    edited,
    releasable,
    released,
    require,
)
from leanstock.domain.quantities import non_negative
from leanstock.services import production, purchasing, transfers
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import UnitOfWork
from leanstock.services.posting import current_day
from leanstock.services.retry import retrying


@dataclass(frozen=True)
class PlanLine:
    id: int
    sku: str
    location: str
    kind: str
    supplier: str | None
    source: str | None
    suggested_quantity: Decimal
    quantity: Decimal
    unit_cost: Decimal
    order_by: date
    need_by: date
    status: str
    explanation: str
    figures: dict[str, Any]
    released_order: str | None

    @property
    def value(self) -> Decimal:
        return self.quantity * self.unit_cost

    @property
    def release_error(self) -> str | None:
        """Why the release refused this line's order (while it is failed)."""
        return self.figures.get("release_error") if self.status == FAILED else None


@dataclass(frozen=True)
class PlanRun:
    id: int
    created_at: datetime
    status: str
    forecast_run_id: int | None
    parameters: dict[str, Any]
    summary: dict[str, Any]
    approved_at: datetime | None
    released_at: datetime | None
    lines: list[PlanLine]


def _line(row: dict[str, Any]) -> PlanLine:
    return PlanLine(
        id=row["id"],
        sku=row["sku"],
        location=row["location"],
        kind=row["kind"],
        supplier=row["supplier"],
        source=row["source"],
        suggested_quantity=row["suggested_quantity"],
        quantity=row["quantity"],
        unit_cost=row["unit_cost"],
        order_by=row["order_by"],
        need_by=row["need_by"],
        status=row["status"],
        explanation=row["explanation"],
        figures=row["figures"],
        released_order=row["released_order"],
    )


def get_plan(uow: UnitOfWork, run_id: int) -> PlanRun:
    with uow:
        run = uow.planning.plan_run(run_id)
        lines = [_line(r) for r in uow.planning.plan_lines(run_id)]
    return PlanRun(**run, lines=lines)


def list_plans(uow: UnitOfWork, limit: int = 20, offset: int = 0) -> Page[PlanRun]:
    limit, offset = page_bounds(limit, offset)
    with uow:
        rows, total = uow.planning.plan_runs(limit, offset)
    return Page([PlanRun(**r, lines=[]) for r in rows], total, limit, offset)


def _changeable_line(uow: UnitOfWork, run_id: int, line_id: int) -> dict[str, Any]:
    """A line a manager may still change: any line of a draft, or a failed line of a partially
    released plan (fixed, then released again with `retry_failed`)."""
    run = uow.planning.plan_run(run_id, lock=True)
    found = uow.planning.plan_lines(run_id, line_id)
    if not found:
        raise NotFound("plan line", f"{line_id} in plan {run_id}", "line")
    if not (run["status"] == PlanStatus.PARTIALLY_RELEASED and found[0]["status"] == FAILED):
        require(
            run_id,
            run["status"],
            PlanStatus.DRAFT,
            "only a draft plan can be changed, or a failed line of a partially released one",
        )
    return found[0]


def _audit_line(
    uow: UnitOfWork,
    run_id: int,
    verb: str,
    line: dict[str, Any],
    quantity: Decimal,
    status: PlanLineStatus,
) -> None:
    """Audit a reviewer's change to a draft plan's line: quantity and status, before and
    after."""
    before = {
        "quantity": line["quantity"],
        "status": getattr(line["status"], "value", line["status"]),
    }
    after = {"quantity": quantity, "status": status.value}
    values = {"line": line["id"], "sku": line["sku"], "location": line["location"]}
    uow.record(
        Changed(subject=f"plan:{run_id}", verb=verb, values={**values, **diff(before, after)})
    )


def summary_of(lines: Sequence[Mapping[str, Any]], before: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's totals over the lines that still order something (not dropped): they
    follow every edit. Figures of the planning itself (`below_reorder_point`, ...) stay."""
    kept = [x for x in lines if x["status"] != PlanLineStatus.DROPPED and x["quantity"] > 0]
    value = sum((x["quantity"] * x["unit_cost"] for x in kept), Decimal(0))
    return {
        **before,
        "orders": len(kept),
        "purchase": sum(1 for x in kept if x["kind"] == SupplyKind.PURCHASE),
        "production": sum(1 for x in kept if x["kind"] == SupplyKind.PRODUCTION),
        "transfer": sum(1 for x in kept if x["kind"] == SupplyKind.TRANSFER),
        "value": str(value.quantize(Decimal("0.01"))),
        "late": sum(1 for x in kept if x["figures"].get("late")),
    }


def _restate(uow: UnitOfWork, run_id: int) -> None:
    run = uow.planning.plan_run(run_id)
    lines = uow.planning.plan_lines(run_id)
    summary = summary_of(lines, run["summary"])
    failed = sum(1 for x in lines if x["status"] == FAILED)
    if failed or "failed" in summary:
        summary["failed"] = failed
    uow.planning.update_plan_run(run_id, summary=summary)


@retrying
def edit_plan_line(uow: UnitOfWork, run_id: int, line_id: int, quantity: Decimal) -> PlanRun:
    """A manager's quantity replaces the suggestion; zero drops the line."""
    quantity = non_negative(quantity)
    with uow:
        line = _changeable_line(uow, run_id, line_id)
        whole(uow.catalog.item(line["sku"]).value, quantity)
        status = edited(quantity)
        uow.planning.update_plan_line(line_id, quantity=quantity, status=status)
        _audit_line(uow, run_id, "plan_line_edit", line, quantity, status)
        _restate(uow, run_id)
        uow.commit()
    return get_plan(uow, run_id)


@retrying
def drop_plan_line(uow: UnitOfWork, run_id: int, line_id: int) -> PlanRun:
    with uow:
        line = _changeable_line(uow, run_id, line_id)
        uow.planning.update_plan_line(line_id, status=PlanLineStatus.DROPPED)
        _audit_line(uow, run_id, "plan_line_drop", line, line["quantity"], PlanLineStatus.DROPPED)
        _restate(uow, run_id)
        uow.commit()
    return get_plan(uow, run_id)


@retrying
def approve_plan(uow: UnitOfWork, run_id: int) -> PlanRun:
    with uow:
        run = uow.planning.plan_run(run_id, lock=True)
        require(run_id, run["status"], PlanStatus.DRAFT, "only a draft can be approved")
        uow.planning.update_plan_run(
            run_id, status=PlanStatus.APPROVED, approved_at=datetime.now(UTC)
        )
        uow.record(
            Changed(
                subject=f"plan:{run_id}",
                verb="plan_approve",
                values={"status": [run["status"], PlanStatus.APPROVED.value]},
            )
        )
        uow.commit()
    return get_plan(uow, run_id)


def release_plan(
    uow: UnitOfWork, run_id: int, *, actor: str = "planner", retry_failed: bool = False
) -> PlanRun:
    """Turn an approved plan's live lines into orders: one purchase order per supplier,
    a production order per made item, a transfer per store refill, each released.

    Exactly once: each order is created in the same transaction that marks its lines
    released, under the plan's row lock, after reading the lines again; so two releases at
    once, or a release run again after a crash, skip what is already released. A line whose
    order is refused (a transfer whose source no longer has the stock, say) fails with the
    reason and the rest go ahead; `retry_failed` releases a partially released plan's failed
    (and since fixed) lines again.
    """
    plan = get_plan(uow, run_id)
    wanted = releasable(run_id, plan.status, retry_failed)
    todo = [x for x in plan.lines if x.status in wanted and x.quantity > 0]
    groups: dict[str, list[int]] = defaultdict(list)
    for line in todo:
        key = f"supplier:{line.supplier}" if line.kind == SupplyKind.PURCHASE else f"{line.id}"
        groups[key].append(line.id)
    for ids in groups.values():
        try:
            _release_lines(uow, run_id, ids, wanted, actor)
        except DomainError as error:
            _fail_lines(uow, run_id, ids, wanted, error.detail)
    _settle(uow, run_id)
    return get_plan(uow, run_id)


@retrying
def _release_lines(
    uow: UnitOfWork,
    run_id: int,
    ids: list[int],
    wanted: tuple[PlanLineStatus, ...],
    actor: str,
) -> None:
    with uow.acting(actor):
        run = uow.planning.plan_run(run_id, lock=True)
        if run["status"] not in (PlanStatus.APPROVED, PlanStatus.PARTIALLY_RELEASED):
            return
        rows = [
            row
            for line_id in ids
            for row in uow.planning.plan_lines(run_id, line_id)
            if row["status"] in wanted and row["quantity"] > 0
        ]
        if not rows:
            return  # another release got there first
        lines = [_line(row) for row in rows]
        number = _order_for(uow, lines)
        for row in rows:
            figures = {k: v for k, v in row["figures"].items() if k != "release_error"}
            uow.planning.update_plan_line(
                row["id"],
                status=PlanLineStatus.RELEASED,
                released_order=number,
                figures=figures,
            )
        uow.commit()


def _order_for(uow: UnitOfWork, lines: list[PlanLine]) -> str:
    """Create and release the order for `lines` (one supplier's, or one line) in the open
    transaction; its number."""
    first = lines[0]
    today = current_day(None)
    if first.kind == SupplyKind.PURCHASE and first.supplier:
        order = purchasing.draft_lines(
            uow,
            first.supplier,
            [
                purchasing.NewPurchaseLine(x.sku, x.quantity, x.location, x.unit_cost, x.need_by)
                for x in lines
            ],
            today,
        )
        purchasing.release_order(uow, order.number)
        return order.number
    if first.kind == SupplyKind.PRODUCTION:
        made = production.plan_production(
            uow, first.sku, first.quantity, first.location, today, first.need_by
        )
        production.release_production_order(uow, made.number)
        return made.number
    if first.kind == SupplyKind.TRANSFER and first.source:
        moved = transfers.plan_transfer(
            uow, first.sku, first.source, first.location, first.quantity, today, first.need_by
        )
        transfers.release_transfer_order(uow, moved.number)
        return moved.number
    raise Conflict(
        f"No supplier sells {first.sku}; add a supplier item for it "
        "(`leanstock add-supplier-item`), then release again with --retry-failed."
    )


@retrying
def _fail_lines(
    uow: UnitOfWork,
    run_id: int,
    ids: list[int],
    wanted: tuple[PlanLineStatus, ...],
    reason: str,
) -> None:
    with uow:
        uow.planning.plan_run(run_id, lock=True)
        for line_id in ids:
            for row in uow.planning.plan_lines(run_id, line_id):
                if row["status"] in wanted:
                    uow.planning.update_plan_line(
                        line_id,
                        status=FAILED,
                        figures={**row["figures"], "release_error": reason},
                    )
        uow.commit()


@retrying
def _settle(uow: UnitOfWork, run_id: int) -> None:
    """Released when no line is left to release; partially released when some failed."""
    with uow:
        run = uow.planning.plan_run(run_id, lock=True)
        if run["status"] not in (PlanStatus.APPROVED, PlanStatus.PARTIALLY_RELEASED):
            return
        lines = uow.planning.plan_lines(run_id)
        if any(x["status"] in LIVE and x["quantity"] > 0 for x in lines):
            return  # a concurrent release is still at work; it settles the plan
        failed = sum(1 for x in lines if x["status"] == FAILED)
        outcome = released(failed)
        uow.planning.update_plan_run(run_id, status=outcome, released_at=datetime.now(UTC))
        _restate(uow, run_id)
        orders = sorted({x["released_order"] for x in lines if x["released_order"]})
        uow.record(
            Changed(
                subject=f"plan:{run_id}",
                verb="plan_release",
                values={
                    "status": [run["status"], outcome.value],
                    "orders": orders,
                    "failed": failed,
                },
            )
        )
        uow.commit()
