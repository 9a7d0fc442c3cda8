"""The records that cross between the services and their ports (`services/ports.py`): a page
of results, a stored value with its id, and the small read models the repositories return.
`ports` re-exports each, so `from leanstock.services.ports import Page` keeps working."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from leanstock.domain.catalog import CostingMethod, SupplierItem
from leanstock.domain.ledger import LotStock, Place
from leanstock.domain.sourcing import SupplierRecord

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class Stored(Generic[T]):
    """A domain object with its database id, for the joins the ledger needs."""

    id: int
    value: T


@dataclass(frozen=True)
class LineRef:
    """The database ids behind an order line: its own, its item's and its location's."""

    id: int
    item_id: int
    place: Place


@dataclass
class SupplierOffers:
    """Who sells an item (`offers`), whether each supplier is active, its delivery record, and
    its database id, by supplier code."""

    offers: list[SupplierItem]
    active: dict[str, bool]
    records: dict[str, SupplierRecord]
    supplier_ids: dict[str, int]


@dataclass(frozen=True)
class RevaluationJob:
    """A large revaluation the worker traces: a backdated operation, one of its items, how many
    later moves of that item it re-values, and where it stands (queued, running, done,
    failed), with the trace once done."""

    id: int
    operation_id: int
    item_id: int
    sku: str
    occurred_at: datetime
    later_moves: int
    status: str
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    later_cost_before: Decimal | None = None
    later_cost_after: Decimal | None = None


@dataclass(frozen=True)
class ItemCosting:
    """What valuing an item needs of it: its ids, its unit cost (for stock that arrived
    without a cost), and its own costing method (None: the company's default)."""

    id: int
    sku: str
    category: str
    unit_cost: Decimal
    costing: CostingMethod | None


@dataclass(frozen=True)
class OpenSalesLine:
    """A confirmed sales line with something still to ship, as backorder filling reads it."""

    line_id: int
    order_id: int
    line_no: int
    open_quantity: Decimal
    ordered_at: datetime
    requested_date: date | None
    # The customer's priority (1 first, 9 last); a walk-in sale's is 5.
    priority: int = 5


class RetryableConflict(Exception):
    """The database aborted the transaction (deadlock, serialization, busy): run it again."""


ITEM_SORTS = ("sku", "name", "category", "class", "stock", "available", "cover")


@dataclass(frozen=True)
class ItemOrder:
    """How a list of items is sorted: by `key` (one of `ITEM_SORTS`), then by SKU.

    The computed keys sort the whole filtered list, not one page: `stock` (on hand) and
    `available` over the physical locations the reader may see, as of `today`; `cover`
    (days of cover: available ÷ mean daily demand since `demand_since`, over
    `demand_days`; items without demand last); `class` (ABC: by usage value, demand since
    `usage_since` × unit cost, largest first, so A before B before C; inactive items last).
    """

    key: str = "sku"
    descending: bool = False
    today: date | None = None
    demand_since: datetime | None = None
    demand_days: int = 56
    usage_since: datetime | None = None


@dataclass(frozen=True)
class ItemFigures:
    """What the items list shows of one item's stock, read for one page at a time.

    `lots`: per physical location the reader may see, its balances by lot (the input of
    `domain.ledger.available`); `reserved` per such location; `demand`: what customers asked
    for at those locations over the demand window.
    """

    lots: dict[str, list[LotStock]]
    reserved: dict[str, Decimal]
    demand: Decimal
