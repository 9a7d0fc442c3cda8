"""What needs someone's attention today: the landing page of the web app.

Each list is read through the same repositories the API's reads use, capped so the page stays
quick on a large catalog (the totals say how many there are in all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from leanstock.domain.orders import PurchaseStatus, SalesStatus
from leanstock.domain.orders import number as order_number
from leanstock.services.ports import UnitOfWork

# A purchase order is late while it is still expected: released and not yet fully received.
OPEN_PURCHASES = (
    PurchaseStatus.RELEASED,
    PurchaseStatus.ACKNOWLEDGED,
    PurchaseStatus.SHIPPED,
    PurchaseStatus.PARTIALLY_RECEIVED,
)
TO_SHIP = (SalesStatus.CONFIRMED, SalesStatus.PARTIALLY_SHIPPED)
EXPIRY_DAYS = 7


@dataclass
class Section:
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0


@dataclass
class Today:
    day: date
    late_purchases: Section
    stock_outs: Section
    expiring_lots: Section
    orders_to_ship: Section
    plans_to_review: Section


def today(
    uow: UnitOfWork,
    *,
    day: date | None = None,
    location: str | None = None,
    limit: int = 20,
) -> Today:
    """Late purchase orders (promised before `day`, not fully received), stock-outs (nothing
    available), lots expiring within a week, confirmed sales orders still to ship, and plans
    waiting for approval or release. `location` narrows the stock lists to one location."""
    day = day or datetime.now(UTC).date()
    with uow:
        late, late_total = uow.purchasing.late([s.value for s in OPEN_PURCHASES], day, limit)
        for row in late:
            row["number"] = order_number("purchase", row.pop("id"))
            row["days_late"] = (day - row["promised_date"]).days
        outs, outs_total = uow.reports.stock_levels(day, None, location, True, limit, 0, True)
        expiring = uow.reports.expiring_lots(
            day, day + timedelta(days=EXPIRY_DAYS), location, limit + 1
        )
        to_ship: list[dict[str, Any]] = []
        ship_total = 0
        for sales_status in TO_SHIP:
            rows, total = uow.sales.page(sales_status.value, None, limit, 0)
            ship_total += total
            to_ship += rows
        for row in to_ship:
            row["number"] = order_number("sales", row.pop("id"))
        plans, _ = uow.planning.plan_runs(20, 0)
        pending = [p for p in plans if p["status"] in ("draft", "approved")]
    return Today(
        day=day,
        late_purchases=Section(late, late_total),
        stock_outs=Section(outs, outs_total),
        expiring_lots=Section(expiring[:limit], len(expiring)),
        orders_to_ship=Section(to_ship[:limit], ship_total),
        plans_to_review=Section(pending, len(pending)),
    )
