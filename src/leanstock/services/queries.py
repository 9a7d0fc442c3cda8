"""Read-only use cases: stock levels now or at a past moment, lots, and an item's move history.

Each reads only the locations the principal may see (`uow.visibility`, applied in the
repositories); naming another answers as a location that does not exist.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from leanstock.domain.catalog import VIRTUAL_LOCATIONS
from leanstock.services.paging import MAX_PAGE, Page, page_bounds
from leanstock.services.ports import UnitOfWork


def stock(
    uow: UnitOfWork,
    sku: str | None = None,
    location: str | None = None,
    limit: int = 100,
    offset: int = 0,
    today: date | None = None,
) -> Page[dict[str, Any]]:
    """On hand, reserved and available per item and physical location, now.

    available = on hand − expired − reserved (docs/architecture.md, "The ledger's rules").
    """
    limit, offset = page_bounds(limit, offset)
    uow.visibility.require_location(location)
    with uow:
        if sku is not None:
            sku = uow.catalog.item(sku).value.sku  # the SKU of a scanned barcode
        if location is not None:
            uow.catalog.location(location)
        rows, total = uow.reports.stock_levels(
            today or datetime.now(UTC).date(), sku, location, True, limit, offset
        )
    return Page(rows, total, limit, offset)


def stock_as_of(
    uow: UnitOfWork, at: datetime, sku: str | None = None, location: str | None = None
) -> list[dict[str, Any]]:
    """On hand per item, location and lot at a past moment, summed from the moves.

    Reservations are not versioned, so a past view has on hand only.
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    uow.visibility.require_location(location)
    with uow:
        item_id = uow.catalog.item(sku).id if sku is not None else None
        location_id = uow.catalog.location(location).id if location is not None else None
        rows = uow.reports.on_hand_as_of(at, item_id, location_id)
    virtual = set(VIRTUAL_LOCATIONS)
    return [
        {**r, "lot": r["lot"] or None}
        for r in rows
        if r["location"] not in virtual and r["on_hand"] != Decimal(0)
    ]


def stock_as_of_page(
    uow: UnitOfWork,
    at: datetime,
    sku: str | None = None,
    location: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[dict[str, Any]]:
    """`stock_as_of` as a page, the shape every list of the API has."""
    limit, offset = page_bounds(limit, offset)
    rows = stock_as_of(uow, at, sku, location)
    return Page(rows[offset : offset + limit], len(rows), limit, offset)


def lots(
    uow: UnitOfWork, sku: str, location: str | None = None, today: date | None = None
) -> list[dict[str, Any]]:
    """What each lot of an item holds per physical location, with its expiry."""
    day = today or datetime.now(UTC).date()
    uow.visibility.require_location(location)
    with uow:
        item_id = uow.catalog.item(sku).id
        location_id = uow.catalog.location(location).id if location is not None else None
        rows = uow.reports.lot_levels(item_id, location_id)
    return [
        {
            **r,
            "lot": r["lot"] or None,
            "expired": r["expires_on"] is not None and r["expires_on"] < day,
        }
        for r in rows
    ]


def moves(
    uow: UnitOfWork,
    sku: str,
    location: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
    newest: bool = False,
) -> Page[dict[str, Any]]:
    """An item's moves in the order they happened (`newest` first when asked), optionally at
    one location and in a window."""
    limit, offset = page_bounds(limit, offset)
    uow.visibility.require_location(location)
    with uow:
        item_id = uow.catalog.item(sku).id
        location_id = uow.catalog.location(location).id if location is not None else None
        rows, total = uow.reports.moves(item_id, location_id, since, until, limit, offset, newest)
    return Page(rows, total, limit, offset)


def weekly_shipped(
    uow: UnitOfWork, sku: str, weeks: int = 26, today: date | None = None
) -> list[dict[str, Any]]:
    """What left for customers per week (Monday start) over the last `weeks` weeks, every week
    present (zero where nothing shipped): the history an item's chart draws."""
    day = today or datetime.now(UTC).date()
    monday = day - timedelta(days=day.weekday())
    first = monday - timedelta(weeks=weeks - 1)
    totals = {first + timedelta(weeks=w): Decimal(0) for w in range(weeks)}
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    with uow:
        item_id = uow.catalog.item(sku).id
        offset = 0
        while True:
            rows, total = uow.reports.moves(item_id, None, since, None, MAX_PAGE, offset)
            for row in rows:
                if row["target"] != "customer":
                    continue
                at = row["occurred_at"].date()
                week = at - timedelta(days=at.weekday())
                if week in totals:
                    totals[week] += row["quantity"]
            offset += MAX_PAGE
            if offset >= total:
                break
    return [{"week": week, "shipped": quantity} for week, quantity in sorted(totals.items())]


def stock_page(
    uow: UnitOfWork,
    sku: str | None = None,
    location: str | None = None,
    limit: int = 100,
    offset: int = 0,
    *,
    short_only: bool = False,
    today: date | None = None,
) -> Page[dict[str, Any]]:
    """Stock levels as `stock` gives them, optionally only the stock-outs (nothing available).
    An unknown SKU or location is not an error here: it matches nothing, as a search does."""
    limit, offset = page_bounds(limit, offset)
    with uow:
        rows, total = uow.reports.stock_levels(
            today or datetime.now(UTC).date(), sku, location, True, limit, offset, short_only
        )
    return Page(rows, total, limit, offset)
