"""Reviewing a plan run: a manager edits or drops its lines, approves it, and releases it into
purchase, production and transfer orders (`domain.plans`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from leanstock.domain.errors import Conflict, DomainError, NotFound
from leanstock.domain.events import Changed, diff
from leanstock.domain.orders import SupplyKind
from leanstock.domain.plans import LIVE, PlanLineStatus, PlanStatus, edited, released, require
from leanstock.domain.quantities import non_negative
from leanstock.services import production, purchasing, transfers
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import UnitOfWork
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


def _draft_line(uow: UnitOfWork, run_id: int, line_id: int) -> dict[str, Any]:
    run = uow.planning.plan_run(run_id, lock=True)
    require(run_id, run["status"], PlanStatus.DRAFT, "only a draft plan can be changed")
    found = uow.planning.plan_lines(run_id, line_id)
    if not found:
        raise NotFound("plan line", f"{line_id} in plan {run_id}", "line")
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


@retrying
def edit_plan_line(uow: UnitOfWork, run_id: int, line_id: int, quantity: Decimal) -> PlanRun:
    """A manager's quantity replaces the suggestion; zero drops the line."""
    quantity = non_negative(quantity)
    with uow:
        line = _draft_line(uow, run_id, line_id)
        status = edited(quantity)
        uow.planning.update_plan_line(line_id, quantity=quantity, status=status)
        _audit_line(uow, run_id, "plan_line_edit", line, quantity, status)
        uow.commit()
    return get_plan(uow, run_id)


@retrying
def drop_plan_line(uow: UnitOfWork, run_id: int, line_id: int) -> PlanRun:
    with uow:
        line = _draft_line(uow, run_id, line_id)
        uow.planning.update_plan_line(line_id, status=PlanLineStatus.DROPPED)
        _audit_line(uow, run_id, "plan_line_drop", line, line["quantity"], PlanLineStatus.DROPPED)
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


def release_plan(uow: UnitOfWork, run_id: int, *, actor: str = "planner") -> PlanRun:
    """Turn an approved plan's live lines into orders: one purchase order per supplier,
    a production order per made item, a transfer per store refill.

    Each order is its own transaction; a line whose order is refused (a transfer whose
    source no longer has the stock, say) keeps the reason and the rest go ahead.
    """
    plan = get_plan(uow, run_id)
    require(run_id, plan.status, PlanStatus.APPROVED, "approve it before releasing")
    live = [line for line in plan.lines if line.status in LIVE and line.quantity > 0]
    by_supplier: dict[str, list[PlanLine]] = defaultdict(list)
    outcomes: dict[int, tuple[PlanLineStatus, str | None, str | None]] = {}
    for line in live:
        if line.kind == SupplyKind.PURCHASE and line.supplier:
            by_supplier[line.supplier].append(line)
    for supplier, lines in by_supplier.items():
        try:
            order = purchasing.add_to_draft(
                uow,
                supplier,
                [
                    purchasing.NewPurchaseLine(
                        x.sku, x.quantity, x.location, x.unit_cost, x.need_by
                    )
                    for x in lines
                ],
                actor=actor,
            )
            purchasing.release(uow, order.number, actor=actor)
            for x in lines:
                outcomes[x.id] = (PlanLineStatus.RELEASED, order.number, None)
        except DomainError as error:
            for x in lines:
                outcomes[x.id] = (PlanLineStatus.FAILED, None, error.detail)
    for line in live:
        if line.id in outcomes:
            continue
        try:
            if line.kind == SupplyKind.PRODUCTION:
                made = production.create_production_order(
                    uow, line.sku, line.quantity, line.location, due_date=line.need_by, actor=actor
                )
                production.release_production(uow, made.number, actor=actor)
                outcomes[line.id] = (PlanLineStatus.RELEASED, made.number, None)
            elif line.kind == SupplyKind.TRANSFER and line.source:
                moved = transfers.create_transfer_order(
                    uow,
                    line.sku,
                    line.source,
                    line.location,
                    line.quantity,
                    expected_date=line.need_by,
                    actor=actor,
                )
                outcomes[line.id] = (PlanLineStatus.RELEASED, moved.number, None)
            else:
                outcomes[line.id] = (PlanLineStatus.FAILED, None, "no supplier sells this item")
        except DomainError as error:
            outcomes[line.id] = (PlanLineStatus.FAILED, None, error.detail)
    _record_release(uow, run_id, outcomes)
    return get_plan(uow, run_id)


@retrying
def _record_release(
    uow: UnitOfWork,
    run_id: int,
    outcomes: dict[int, tuple[PlanLineStatus, str | None, str | None]],
) -> None:
    with uow:
        run = uow.planning.plan_run(run_id, lock=True)
        if run["status"] != PlanStatus.APPROVED:
            raise Conflict(f"Plan {run_id} changed while it was being released.")
        for line_id, (status, number, reason) in outcomes.items():
            values: dict[str, Any] = {"status": status, "released_order": number}
            if reason:
                row = uow.planning.plan_lines(run_id, line_id)[0]
                values["figures"] = {**row["figures"], "release_error": reason}
            uow.planning.update_plan_line(line_id, **values)
        failed = sum(1 for s, _, _ in outcomes.values() if s is PlanLineStatus.FAILED)
        outcome = released(failed)
        uow.planning.update_plan_run(run_id, status=outcome, released_at=datetime.now(UTC))
        orders = sorted({number for _, number, _ in outcomes.values() if number})
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
