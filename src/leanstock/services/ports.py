"""The ports the use cases depend on: a unit of work and its repositories, as Protocols.

Services are written against these, never against a database: `adapters.db` implements them
on SQLite and PostgreSQL, `tests/fakes` in memory (so the services' rules can be tested in
milliseconds). The records here cross between the two sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from leanstock.domain.access import Visibility
from leanstock.domain.catalog import (
    CostingMethod,
    Item,
    Location,
    LocationKind,
    Supplier,
    SupplierItem,
)
from leanstock.domain.costing import CostedMove
from leanstock.domain.events import DomainEvent
from leanstock.domain.ledger import (
    KnownLot,
    LotStock,
    OperationRecord,
    Place,
    Posting,
    Reservation,
    StockLevel,
)
from leanstock.domain.orders import (
    BomLine,
    Component,
    DemandKind,
    Peg,
    ProductionOrder,
    PurchaseLine,
    PurchaseOrder,
    SalesLine,
    SalesOrder,
    SupplyKind,
    TransferOrder,
)
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


class RetryableConflict(Exception):
    """The database aborted the transaction (deadlock, serialization, busy): run it again."""


class CatalogRepo(Protocol):
    """Items, locations, suppliers and the terms they sell on."""

    def item(self, sku: str, field: str = "sku") -> Stored[Item]: ...
    def items_and_locations(
        self, skus: Sequence[str], codes: Sequence[str]
    ) -> tuple[dict[str, Stored[Item]], dict[str, Stored[Location]]] | None: ...
    def add_item(self, item: Item) -> Stored[Item]: ...
    def update_item(self, item: Item) -> None: ...
    def items(
        self,
        limit: int = 50,
        offset: int = 0,
        search: str | None = None,
        category: str | None = None,
        kind: str | None = None,
        policy: str | None = None,
        lot_tracked: bool | None = None,
        active: bool | None = None,
    ) -> Page[Item]: ...
    def location(self, code: str, field: str = "location") -> Stored[Location]: ...
    def add_location(self, location: Location) -> Stored[Location]: ...
    def update_location(self, location: Location) -> None: ...
    def locations(
        self,
        limit: int = 50,
        offset: int = 0,
        kind: str | None = None,
        physical: bool | None = None,
    ) -> Page[Location]: ...
    def supplier(self, code: str, field: str = "supplier") -> Stored[Supplier]: ...
    def add_supplier(self, supplier: Supplier) -> Stored[Supplier]: ...
    def update_supplier(self, supplier: Supplier) -> None: ...
    def suppliers(
        self, limit: int = 50, offset: int = 0, active: bool | None = None
    ) -> Page[Supplier]: ...
    def supplier_item(self, supplier: str, sku: str) -> SupplierItem: ...
    def put_supplier_item(self, terms: SupplierItem, create: bool) -> None: ...
    def supplier_items(
        self, limit: int = 50, offset: int = 0, supplier: str | None = None, sku: str | None = None
    ) -> Page[SupplierItem]: ...
    def ensure_location(self, code: str, name: str, kind: str) -> Place: ...
    def known(
        self, skus: Sequence[str], codes: Sequence[str]
    ) -> tuple[dict[str, int], dict[str, Place]]: ...
    def location_codes(self, codes: Sequence[str]) -> dict[str, int]: ...
    def unit_factors(self, item_id: int) -> dict[str, Decimal]: ...
    def put_unit(self, item_id: int, unit: str, factor: Decimal) -> None: ...


class LedgerRepo(Protocol):
    """Stock rows and their locks, lots, postings, and reservations (with the reserved counter)."""

    def lock_stock(self, item_id: int, place: Place) -> StockLevel: ...
    def lock_stocks(
        self, rows: Sequence[tuple[int, Place]], create_first: bool = False
    ) -> dict[tuple[int, int], StockLevel]: ...
    def lots_of(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], list[LotStock]]: ...
    def lock_stock_and_lots(
        self, item_id: int, place: Place
    ) -> tuple[StockLevel, list[LotStock]]: ...
    def lot_stock(self, item_id: int, location_id: int) -> list[LotStock]: ...
    def lot(self, item_id: int, code: str) -> KnownLot | None: ...
    def expired_stock(self, today: date) -> list[tuple[int, int, str, Decimal]]: ...
    def add_lot(self, item_id: int, code: str, expires_on: date | None) -> None: ...
    def post(
        self,
        kind: str,
        postings: Sequence[Posting],
        occurred_at: datetime,
        reference: str | None = None,
        partner: str | None = None,
        reason: str | None = None,
        note: str | None = None,
    ) -> int: ...
    def reserve(
        self, item_id: int, location_id: int, reference: str, quantity: Decimal
    ) -> Reservation: ...
    def release(self, takes: Sequence[tuple[Reservation, Decimal]]) -> list[Reservation]: ...
    def consume(self, takes: Sequence[tuple[Reservation, Decimal]]) -> list[Reservation]: ...
    def reservation(self, reservation_id: int, lock: bool = False) -> Reservation: ...
    def open_reservations(self, reference: str) -> list[Reservation]: ...
    def reservations(
        self,
        reference: str | None = None,
        item_id: int | None = None,
        location_id: int | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Reservation], int]: ...
    def reserved_for(self, references: Sequence[str]) -> dict[str, Decimal]: ...
    def free_stock(self, item_id: int, location_id: int | None = None) -> Decimal: ...
    def available_elsewhere(
        self, item_id: int, not_location: int
    ) -> list[tuple[Place, Decimal]]: ...
    def moved(
        self, reference: str, item_id: int, source_id: int, target_id: int
    ) -> list[tuple[str | None, Decimal]]: ...
    def names(self, item_id: int, location_id: int) -> tuple[str, str]: ...
    def has_moves(self, item_id: int) -> bool: ...
    def set_may_go_negative(self, location_id: int, value: bool) -> None: ...
    def add_lots(self, lots: Sequence[tuple[int, str, date | None]]) -> None: ...
    def post_history(self, operations: Sequence[OperationRecord]) -> list[int]: ...


class SalesRepo(Protocol):
    """Sales orders and their lines."""

    def place(self, code: str, field: str) -> tuple[Place, bool]: ...
    def items_and_place(
        self, skus: Sequence[str], location: str | None = None
    ) -> tuple[dict[str, Stored[Item]], tuple[Place, bool] | None]: ...
    def add(self, order: SalesOrder, refs: Sequence[tuple[int, Place]]) -> list[int]: ...
    def get(self, order_id: int, lock: bool = False) -> tuple[SalesOrder, dict[int, LineRef]]: ...
    def save(self, order: SalesOrder) -> None: ...
    def save_lines(self, lines: Sequence[SalesLine]) -> None: ...
    def order_of_line(self, line_id: int) -> int: ...
    def page(
        self,
        status: str | None = None,
        customer: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]: ...
    def demand_rows(self, since: datetime | None) -> list[dict[str, Any]]: ...
    def backordered(self, keys: Sequence[tuple[int, int]]) -> set[tuple[int, int]]: ...
    def open_lines(self, item_id: int, location_id: int) -> list[OpenSalesLine]: ...


class PurchasingRepo(Protocol):
    """Purchase orders, receipts, and who sells what on which delivery record."""

    def open_draft(self, supplier_id: int, supplier: str) -> PurchaseOrder: ...
    def lock_draft(self, supplier_id: int) -> int: ...
    def draft_line(
        self, order_id: int, item_id: int, location_id: int
    ) -> tuple[int, int, Decimal, Decimal] | None: ...
    def next_line_no(self, order_id: int) -> int: ...
    def resize_line(self, line_id: int, quantity: Decimal, expected_date: date) -> None: ...
    def add(
        self, order: PurchaseOrder, supplier_id: int, sales_order_id: int | None = None
    ) -> int: ...
    def add_line(self, order_id: int, line: PurchaseLine, item_id: int, place: Place) -> int: ...
    def get(
        self, order_id: int, lock: bool = False
    ) -> tuple[PurchaseOrder, dict[int, LineRef]]: ...
    def order_of_line(self, line_id: int) -> int: ...
    def save(self, order: PurchaseOrder) -> None: ...
    def page(
        self,
        status: str | None = None,
        supplier: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]: ...
    def late(
        self, statuses: Sequence[str], before: date, limit: int = 20
    ) -> tuple[list[dict[str, Any]], int]: ...
    def add_receipt(
        self,
        purchase_line_id: int,
        received_on: date,
        promised_date: date | None,
        quantity: Decimal,
        rejected: Decimal,
        rejected_to: str | None,
        operation_id: int | None,
    ) -> int: ...
    def receipt_rows(
        self, supplier: str | None = None, since: date | None = None
    ) -> list[dict[str, Any]]: ...
    def acknowledgement_rows(
        self, supplier: str | None = None, since: date | None = None
    ) -> list[dict[str, Any]]: ...
    def offers(self, item_id: int) -> SupplierOffers: ...
    def supplier_records(self) -> dict[str, SupplierRecord]: ...


class ProductionRepo(Protocol):
    """Production orders and their components."""

    def add(self, order: ProductionOrder, item_id: int, place: Place) -> int: ...
    def add_component(self, order_id: int, component: Component, item_id: int) -> int: ...
    def get(
        self, order_id: int, lock: bool = False
    ) -> tuple[ProductionOrder, LineRef, dict[str, int]]: ...
    def save(self, order: ProductionOrder) -> None: ...
    def page(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]: ...


class TransfersRepo(Protocol):
    """Transfer orders."""

    def add(self, order: TransferOrder, item_id: int, source: Place, target: Place) -> int: ...
    def get(self, order_id: int, lock: bool = False) -> tuple[TransferOrder, int, Place, Place]: ...
    def save(self, order: TransferOrder) -> None: ...
    def page(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]: ...


class BomsRepo(Protocol):
    """Bills of materials."""

    def put(
        self, item_id: int, lead_time_days: int, lines: Sequence[tuple[int, BomLine]]
    ) -> None: ...
    def get(self, item_id: int) -> tuple[int, list[tuple[int, BomLine]]] | None: ...
    def all(self) -> dict[str, list[BomLine]]: ...
    def lead_time(self, item_id: int) -> int | None: ...


class PegsRepo(Protocol):
    """Which supply is promised to which demand."""

    def add(
        self,
        demand_kind: DemandKind,
        demand_id: int,
        supply_kind: SupplyKind,
        supply_id: int,
        reference: str,
        quantity: Decimal,
    ) -> int: ...
    def of_demand(self, kind: DemandKind, ids: Sequence[int]) -> list[Peg]: ...
    def of_supply(self, kind: SupplyKind, ids: Sequence[int]) -> list[Peg]: ...
    def save(self, peg: Peg) -> None: ...
    def supply_dates(self, pegs: Sequence[Peg]) -> dict[tuple[str, int], date | None]: ...
    def supply_numbers(self, pegs: Sequence[Peg]) -> dict[tuple[str, int], str]: ...


class OutboxRepo(Protocol):
    """The events and audit trail written so far (the unit of work writes them on commit)."""

    def events(self, subject: str | None = None) -> list[dict[str, Any]]: ...
    def audit_trail(self, subject: str) -> list[dict[str, Any]]: ...


class HistoryRepo(Protocol):
    """Past orders loaded in bulk."""

    def empty(self) -> bool: ...
    def catalog_ids(self) -> tuple[dict[str, int], dict[str, int]]: ...
    def add(
        self,
        sales_orders: Sequence[dict[str, Any]],
        sales_lines: Sequence[dict[str, Any]],
        purchase_orders: Sequence[dict[str, Any]],
        purchase_lines: Sequence[dict[str, Any]],
        receipts: Sequence[dict[str, Any]],
    ) -> None: ...
    def put_sales(
        self, orders: Sequence[dict[str, Any]], lines: Sequence[dict[str, Any]]
    ) -> tuple[int, int]:
        """Imported past sales orders keyed by `import_ref` (lines carry it in place of an
        order id): new ones are added, known ones get their lines replaced. (added, updated)"""
        ...

    def put_purchases(
        self,
        orders: Sequence[dict[str, Any]],
        lines: Sequence[dict[str, Any]],
        receipts: Sequence[dict[str, Any]],
    ) -> tuple[int, int]:
        """As `put_sales`, for purchase orders; receipts name (`import_ref`, `line_no`)."""
        ...

    def history_rows(self, kind: str) -> list[dict[str, Any]]:
        """Past orders of `kind` (sales or purchase) but drafts, one row per line (and per
        receipt), with codes in place of ids: what an export of history writes."""
        ...


class WebhooksRepo(Protocol):
    """Webhook subscriptions, and one delivery per outbox event and subscription."""

    def add_subscription(self, url: str, secret: str, events: Sequence[str]) -> dict[str, Any]: ...
    def subscriptions(self) -> list[dict[str, Any]]: ...
    def subscription(self, subscription_id: int) -> dict[str, Any]: ...
    def fan_out(self, now: datetime, give_up_at: datetime, limit: int) -> int: ...
    def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[dict[str, Any]]: ...
    def record_attempt(
        self,
        delivery: dict[str, Any],
        at: datetime,
        status_code: int | None,
        error: str | None,
        milliseconds: int,
        outcome: str,
        next_attempt_at: datetime | None,
        max_failures: int,
    ) -> None: ...
    def replay(
        self, subscription_id: int, now: datetime, give_up_at: datetime, since: datetime | None
    ) -> int: ...
    def deliveries(
        self, subscription_id: int, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]: ...


class StockReportsRepo(Protocol):
    """Reads of the ledger for people and reports."""

    def stock_levels(
        self,
        today: date,
        sku: str | None = None,
        location: str | None = None,
        physical_only: bool = True,
        limit: int = 100,
        offset: int = 0,
        short_only: bool = False,
    ) -> tuple[list[dict[str, Any]], int]: ...
    def lot_levels(self, item_id: int, location_id: int | None = None) -> list[dict[str, Any]]: ...
    def expiring_lots(
        self, today: date, until: date, location: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]: ...
    def lot_moves(self, item_id: int, lot: str) -> list[dict[str, Any]]: ...
    def batch_moves(self, reference: str) -> list[dict[str, Any]]: ...
    def on_hand_as_of(
        self, at: datetime, item_id: int | None = None, location_id: int | None = None
    ) -> list[dict[str, Any]]: ...
    def moves(
        self,
        item_id: int,
        location_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
        newest: bool = False,
    ) -> tuple[list[dict[str, Any]], int]: ...


class PlanningRepo(Protocol):
    """Forecast runs, the event calendar, and plan runs."""

    def ids(self) -> tuple[dict[str, int], dict[str, int]]: ...
    def add_event(
        self,
        name: str,
        starts_on: date,
        ends_on: date,
        skus: list[str] | None,
        categories: list[str] | None,
        uplift: float | None,
    ) -> int: ...
    def events(self) -> list[dict[str, Any]]: ...
    def add_forecast_run(self, run: dict[str, Any]) -> int: ...
    def add_forecast_values(self, rows: Sequence[dict[str, Any]]) -> None: ...
    def add_forecast_accuracy(self, rows: Sequence[dict[str, Any]]) -> None: ...
    def add_forecast_totals(self, rows: Sequence[dict[str, Any]]) -> None: ...
    def forecast_totals(self, run_id: int, level: str, key: str) -> list[dict[str, Any]]: ...
    def forecast_run(self, run_id: int | None = None) -> dict[str, Any]: ...
    def forecast_runs(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]: ...
    def forecast_values(
        self, run_id: int, item_id: int | None = None, location_id: int | None = None
    ) -> list[dict[str, Any]]: ...
    def forecast_accuracy(
        self, run_id: int, item_id: int, location_id: int | None = None
    ) -> list[dict[str, Any]]: ...
    def forecast_accuracy_by_class(self, run_id: int) -> list[dict[str, Any]]: ...
    def open_supply(self) -> list[dict[str, Any]]: ...
    def backorders(self) -> list[dict[str, Any]]: ...
    def add_plan_run(
        self, forecast_run_id: int | None, parameters: dict[str, Any], summary: dict[str, Any]
    ) -> int: ...
    def add_plan_lines(self, rows: Sequence[dict[str, Any]]) -> None: ...
    def plan_run(self, run_id: int, lock: bool = False) -> dict[str, Any]: ...
    def plan_runs(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]: ...
    def plan_lines(self, run_id: int, line_id: int | None = None) -> list[dict[str, Any]]: ...
    def update_plan_line(self, line_id: int, **values: Any) -> None: ...
    def update_plan_run(self, run_id: int, **values: Any) -> None: ...
    def production_lead_times(self) -> dict[str, int]: ...


class ValuationRepo(Protocol):
    """What costing reads (items, their moves with costs, location kinds) and the company
    settings."""

    def items(self, sku: str | None = None, category: str | None = None) -> list[ItemCosting]: ...
    def moves(self, item_ids: Sequence[int] | None = None) -> list[CostedMove]: ...
    def location_kinds(self) -> dict[int, tuple[str, LocationKind]]: ...
    def default_method_in_use(self) -> bool: ...
    def balance_path(
        self, item_id: int, location_id: int, lot: str | None, when: datetime
    ) -> tuple[Decimal, list[tuple[datetime, Decimal]]]: ...
    def moved_after(self, item_ids: Sequence[int], when: datetime) -> bool: ...
    def reservation_path(
        self, item_id: int, location_id: int, when: datetime
    ) -> tuple[Decimal, list[tuple[datetime, Decimal]]]: ...
    def later_moves(self, item_id: int, when: datetime) -> int: ...
    def add_revaluation_job(
        self, operation_id: int, item_id: int, occurred_at: datetime, later_moves: int
    ) -> int: ...
    def claim_revaluation_job(self, stale_before: datetime) -> RevaluationJob | None: ...
    def finish_revaluation_job(self, job_id: int, status: str, error: str | None) -> None: ...
    def revaluation_job(self, job_id: int) -> RevaluationJob | None: ...
    def revaluation_jobs(
        self, status: str | None, limit: int, offset: int
    ) -> tuple[list[RevaluationJob], int]: ...
    def costed_moves_until(
        self, item_ids: Sequence[int], operation_id: int
    ) -> list[CostedMove]: ...
    def add_revaluation(
        self,
        operation_id: int,
        item_id: int,
        occurred_at: datetime,
        before: Decimal,
        after: Decimal,
    ) -> None: ...
    def backdated(
        self, item_id: int | None, location_id: int | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]: ...
    def setting(self, key: str, lock: bool = False) -> str | None: ...
    def put_setting(self, key: str, value: str) -> None: ...


class KpiRepo(Protocol):
    """What the KPIs read (`adapters/db/kpis.py`) and their monthly cost snapshot."""

    def ledger_mark(self) -> str: ...
    def items(self) -> list[dict[str, Any]]: ...
    def locations(self) -> list[dict[str, Any]]: ...
    def demand_months(
        self, since: datetime
    ) -> list[tuple[int, int, date, Any, Any, int, int, int]]: ...
    def demand_days(self, since: datetime) -> list[tuple[int, int, date, Decimal]]: ...
    def scrap_reasons(self) -> dict[int, str]: ...
    def deliveries(self, since: date) -> list[tuple[int, int, str, date, date | None]]: ...
    def forecasts(
        self, since: date, before: date
    ) -> list[tuple[int, int, int, str, date, float]]: ...
    def settings(self, prefix: str) -> dict[str, str]: ...
    def delete_setting(self, key: str) -> None: ...
    def months(self, since: date) -> list[dict[str, Any]]: ...
    def replace_months(self, rows: Iterable[dict[str, Any]]) -> None: ...


class UnitOfWork(Protocol):
    """One transaction and the repositories that work inside it.

    `with uow:` (or `with uow.acting(actor):`) opens it; `uow.commit()` writes the events its
    aggregates recorded and keeps it; leaving without commit rolls everything back. A conflict
    with a concurrent transaction surfaces as `RetryableConflict` (see `services.retry`).
    """

    # The rows the principal may read: lists and pages are narrowed to it in the
    # repositories, and the services answer an object outside it as a missing one.
    visibility: Visibility

    @property
    def catalog(self) -> CatalogRepo: ...
    @property
    def ledger(self) -> LedgerRepo: ...
    @property
    def sales(self) -> SalesRepo: ...
    @property
    def purchasing(self) -> PurchasingRepo: ...
    @property
    def production(self) -> ProductionRepo: ...
    @property
    def transfers(self) -> TransfersRepo: ...
    @property
    def boms(self) -> BomsRepo: ...
    @property
    def kpis(self) -> KpiRepo: ...
    @property
    def pegs(self) -> PegsRepo: ...
    @property
    def outbox(self) -> OutboxRepo: ...
    @property
    def history(self) -> HistoryRepo: ...
    @property
    def reports(self) -> StockReportsRepo: ...
    @property
    def planning(self) -> PlanningRepo: ...
    @property
    def valuation(self) -> ValuationRepo: ...
    @property
    def webhooks(self) -> WebhooksRepo: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def acting(self, actor: str) -> Self:
        """The audit rows this transaction writes name `actor`."""
        ...

    def record(self, event: DomainEvent) -> None:
        """An event no aggregate loaded in this transaction records itself."""
        ...

    def virtual_place(self, code: str) -> Place:
        """The virtual location `code` (supplier, customer, scrap, ...)."""
        ...

    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def batch(self, virtual_last: bool = False) -> BatchUnitOfWork:
        """A unit of work for many use cases in one transaction (an all-or-nothing import).

        `virtual_last`: what none of the batch's use cases reads is written once, at the end:
        the balances of the virtual locations (supplier, customer, adjustment, scrap), in key
        order (`LedgerRepository.defer`), so batches of documents on overlapping items cannot
        deadlock on them; and the kept use cases' outbox and audit rows."""
        ...


class BatchUnitOfWork(UnitOfWork, Protocol):
    """`open()` begins one transaction; each use case's `with uow:` is then a savepoint in it
    and its commit only releases it; `close(keep)` keeps all of it or none."""

    def open(self) -> Self: ...
    def close(self, keep: bool) -> None: ...
