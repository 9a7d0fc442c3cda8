"""The items list: a page of items, each with its barcode, stock, available, days of cover and
ABC class, sorted by any of them over the whole filtered list.

A page costs a fixed number of queries whatever its size: the page itself (sorted in SQL,
`adapters/db/item_keys.py`), its barcodes, its stock and recent demand
(`StockReportsRepo.item_figures`), and, with classes, one grouped pass over the last year's
demand for the ABC cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl

from leanstock.domain.catalog import Item
from leanstock.domain.errors import InvalidInput
from leanstock.domain.ledger import available
from leanstock.planning.segments import abc_classes
from leanstock.services.insight import USAGE_DAYS, InsightRules
from leanstock.services.paging import page_bounds
from leanstock.services.ports import ItemFigures, ItemOrder, Page, UnitOfWork
from leanstock.services.posting import current_day
from leanstock.services.records import ITEM_SORTS

COVER_DAYS = 56
"""Days of cover divide by the mean daily demand of the last 8 weeks (today included)."""
TENTH = Decimal("0.1")
ZERO = Decimal(0)


@dataclass(frozen=True)
class ItemRow:
    """One line of the items list.

    stock: on hand over the physical locations the reader may see; available: summed over
    them, `domain.ledger.available` (usable on hand, expired lots left out, less reserved);
    days_of_cover: available (at least zero) ÷ mean daily demand over the last `COVER_DAYS`
    days at those locations, to a tenth of a day, None without demand; abc_class: as
    `GET /classification` (None when not asked for, or for an inactive item).
    """

    item: Item
    barcode: str | None
    stock: Decimal
    available: Decimal
    days_of_cover: Decimal | None
    abc_class: str | None


def item_rows(
    uow: UnitOfWork,
    limit: int = 50,
    offset: int = 0,
    *,
    sort: str = "sku",
    descending: bool = False,
    classes: bool = False,
    today: date | None = None,
    **filters: Any,
) -> Page[ItemRow]:
    """A page of the items matching `filters` (as `catalog.list_items`), in `sort` order."""
    if sort not in ITEM_SORTS:
        raise InvalidInput(
            f"Unknown sort {sort!r}: sort by one of {', '.join(ITEM_SORTS)}.", "sort"
        )
    if sort == "class" and not classes:
        raise InvalidInput("Sorting by class needs the classes: ask for them too.", "sort")
    limit, offset = page_bounds(limit, offset)
    day = current_day(today)
    demand_since = _midnight(day - timedelta(days=COVER_DAYS - 1))
    usage_since = _midnight(day - timedelta(days=USAGE_DAYS - 1))
    order = ItemOrder(sort, descending, day, demand_since, COVER_DAYS, usage_since)
    with uow:
        page = uow.catalog.items(limit, offset, order=order, **filters)
        skus = [i.sku for i in page.items]
        figures = uow.reports.item_figures(skus, demand_since)
        barcodes = uow.catalog.barcodes(skus)
        usage = uow.reports.usage_values(usage_since) if classes else {}
    classed = _abc(usage)
    rows = [
        _row(item, figures[item.sku], barcodes.get(item.sku), classed.get(item.sku), day)
        for item in page.items
    ]
    return Page(rows, page.total, page.limit, page.offset)


def _row(
    item: Item, found: ItemFigures, codes: list[str] | None, abc: str | None, today: date
) -> ItemRow:
    on_hand = sum((s.quantity for lots in found.lots.values() for s in lots), ZERO)
    places = found.lots.keys() | found.reserved.keys()
    free = sum(
        (available(found.lots.get(p, []), found.reserved.get(p, ZERO), today) for p in places),
        ZERO,
    )
    cover = None
    if found.demand > 0:
        cover = (max(free, ZERO) * COVER_DAYS / found.demand).quantize(TENTH)
    return ItemRow(item, codes[0] if codes else None, on_hand, free, cover, abc)


def _abc(usage: dict[str, float]) -> dict[str, str]:
    """The ABC class of each active item from its usage value (`planning.segments`), with the
    same thresholds and in the same (SKU) order as `insight.classify_items`."""
    if not usage:
        return {}
    skus = sorted(usage)
    frame = pl.DataFrame(
        {"sku": skus, "usage_value": [usage[s] for s in skus]},
        schema={"sku": pl.String, "usage_value": pl.Float64},
    )
    ranked = abc_classes(frame, value="usage_value", keys=("sku",), thresholds=InsightRules().abc)
    return dict(zip(ranked["sku"].to_list(), ranked["abc_class"].to_list(), strict=True))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)
