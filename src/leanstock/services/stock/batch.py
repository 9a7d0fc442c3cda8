"""Batch posting: many stock documents in one call, each all-or-nothing on its own.

A till's day of sales, a web shop's order feed or a warehouse's end-of-day file arrives as
one batch. Each document runs through the same use case a single request would
(`services.stock.moves`), so the ledger's rules are written once; each runs in a savepoint of
one transaction, so a refused document undoes just itself and the others are kept, and
nothing of the batch is kept until all of it has been decided (a retry of the whole batch, by
`Idempotency-Key` or after a deadlock, never applies half of it twice).

Locks: before the first document, the batch locks every physical stock row any of its
documents names, in one global order (`LedgerRepo.lock_stocks`), and the virtual locations'
balances change once at the end in key order (`UnitOfWork.batch(virtual_last=True)`), so two
batches, or a batch and a single document, never wait for each other in a circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from leanstock.domain import catalog
from leanstock.domain.errors import DomainError, InvalidInput
from leanstock.domain.ledger import MoveKind, Place, ScrapReason, ShipmentReason, StockLevel
from leanstock.services.ports import BatchUnitOfWork, UnitOfWork
from leanstock.services.posting import Operation, StockLine, checked_time
from leanstock.services.retry import retrying
from leanstock.services.stock.moves import count, receive_lines, scrap, ship_lines, transfer_lines
from leanstock.services.stock.planned import Planner

# Documents in one batch, at most: a day of a busy till; larger files go in several batches.
MAX_DOCUMENTS = 1000
# Lines over all its documents, at most: a batch holds its stock rows' locks until it ends.
MAX_LINES = 10_000


@dataclass(frozen=True)
class Receipt:
    """Goods from a supplier into a location (supplier → location)."""

    location: str
    lines: Sequence[StockLine]
    supplier: str | None = None
    reference: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Shipment:
    """Unreserved stock to a customer, first-expired-first-out unless a lot is named."""

    location: str
    lines: Sequence[StockLine]
    customer: str | None = None
    reference: str | None = None
    occurred_at: datetime | None = None
    reason: ShipmentReason | None = None


@dataclass(frozen=True)
class Transfer:
    """Stock between two physical locations."""

    source: str
    target: str
    lines: Sequence[StockLine]
    reference: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Count:
    """A stocktake of one item (and lot) at a location."""

    sku: str
    location: str
    counted: Decimal
    unit: str | None = None
    lot: str | None = None
    expires_on: date | None = None
    reference: str | None = None
    occurred_at: datetime | None = None
    unit_cost: Decimal | None = None
    serials: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scrap:
    """Stock written off to scrap with a reason."""

    sku: str
    location: str
    quantity: Decimal
    reason: ScrapReason
    unit: str | None = None
    lot: str | None = None
    note: str | None = None
    reference: str | None = None
    occurred_at: datetime | None = None
    serials: tuple[str, ...] = ()


Document = Receipt | Shipment | Transfer | Count | Scrap


@dataclass
class BatchResult:
    """One outcome per document, in the order sent: what it posted, or why it was refused."""

    outcomes: list[Operation | DomainError] = field(default_factory=list)

    @property
    def posted(self) -> int:
        return sum(isinstance(o, Operation) for o in self.outcomes)

    @property
    def refused(self) -> int:
        return len(self.outcomes) - self.posted


def _names(document: Document) -> list[tuple[str, str]]:
    """The (SKU, location) stock rows a document may change."""
    match document:
        case Receipt() | Shipment():
            return [(line.sku, document.location) for line in document.lines]
        case Transfer():
            return [
                (line.sku, code)
                for line in document.lines
                for code in (document.source, document.target)
            ]
        case Count() | Scrap():
            return [(document.sku, document.location)]


def places(document: Document) -> list[tuple[str, str]]:
    """The locations a document names, with the input field that names each."""
    if isinstance(document, Transfer):
        return [(document.source, "source"), (document.target, "target")]
    return [(document.location, "location")]


@dataclass(frozen=True)
class _Named:
    """What the batch's documents name that exists: item ids by SKU, physical locations by
    code, and the stock rows (item id, location id) it locked."""

    items: dict[str, int]
    places: dict[str, Place]
    rows: dict[tuple[int, int], Place]
    levels: dict[tuple[int, int], StockLevel]


def _lock_all(uow: BatchUnitOfWork, documents: Sequence[Document | DomainError]) -> _Named:
    """Lock every physical stock row the batch names, up front, in one global order."""
    pairs = {pair for d in documents if not isinstance(d, DomainError) for pair in _names(d)}
    items, places = uow.catalog.known(
        sorted({sku for sku, _ in pairs}), sorted({code for _, code in pairs})
    )
    rows = {
        (items[sku], places[code].id): places[code]
        for sku, code in pairs
        if sku in items and code in places
    }
    levels = (
        uow.ledger.lock_stocks(
            [(item_id, place) for (item_id, _), place in sorted(rows.items())], create_first=True
        )
        if rows
        else {}
    )
    return _Named(items, places, rows, levels)


def _plain(
    uow: BatchUnitOfWork, documents: Sequence[Document | DomainError], named: _Named
) -> set[int]:
    """The documents the batch may plan in memory (`services.stock.planned`): receipts,
    shipments and transfers dated now that name no serials (a serial's place is read from the
    database, where a plan has not written it yet), whose receipts name no lot and arrive
    where no sales line waits (a receipt fills backorders), and whose shipments and transfers
    take items no move is dated after now (which the history check would have to trace).
    Two queries."""
    found = {
        index: d
        for index, d in enumerate(documents)
        if isinstance(d, Receipt | Shipment | Transfer) and d.occurred_at is None
    }
    found = {
        index: d
        for index, d in found.items()
        if not any(line.serials for line in d.lines)
        and not (isinstance(d, Receipt) and any(line.lot is not None for line in d.lines))
    }
    arrivals: dict[tuple[int, int], set[int]] = {}
    for index, d in found.items():
        if isinstance(d, Receipt) and d.location in named.places:
            for line in d.lines:
                if line.sku in named.items:
                    key = (named.items[line.sku], named.places[d.location].id)
                    arrivals.setdefault(key, set()).add(index)
    for key in uow.sales.backordered(sorted(arrivals)):
        for index in arrivals[key]:
            found.pop(index, None)
    taking = sorted(
        {
            named.items[line.sku]
            for d in found.values()
            if isinstance(d, Shipment | Transfer)
            for line in d.lines
            if line.sku in named.items
        }
    )
    if taking and uow.valuation.moved_after(taking, checked_time(None)):
        found = {i: d for i, d in found.items() if isinstance(d, Receipt)}
    return set(found)


def _plan(planner: Planner, document: Document) -> None:
    match document:
        case Receipt():
            planner.receipt(
                document.location, document.lines, document.supplier, document.reference
            )
        case Shipment():
            planner.take(
                MoveKind.SHIPMENT,
                document.lines,
                document.location,
                "location",
                planner.uow.virtual_place(catalog.CUSTOMER),
                document.reference,
                document.customer,
                document.reason.value if document.reason is not None else None,
            )
        case Transfer():
            planner.take(
                MoveKind.TRANSFER,
                document.lines,
                document.source,
                "source",
                document.target,
                document.reference,
            )
        case _:
            raise TypeError(f"{type(document).__name__} is not planned in memory.")


def post_document(uow: UnitOfWork, document: Document) -> Operation:
    """Apply one document by the use case a single request of its kind calls."""
    match document:
        case Receipt():
            return receive_lines(
                uow,
                document.location,
                document.lines,
                supplier=document.supplier,
                reference=document.reference,
                occurred_at=document.occurred_at,
            )
        case Shipment():
            return ship_lines(
                uow,
                document.location,
                document.lines,
                customer=document.customer,
                reference=document.reference,
                occurred_at=document.occurred_at,
                reason=document.reason,
            )
        case Transfer():
            return transfer_lines(
                uow,
                document.source,
                document.target,
                document.lines,
                reference=document.reference,
                occurred_at=document.occurred_at,
            )
        case Count():
            return count(
                uow,
                document.sku,
                document.location,
                document.counted,
                unit=document.unit,
                lot=document.lot,
                expires_on=document.expires_on,
                reference=document.reference,
                occurred_at=document.occurred_at,
                unit_cost=document.unit_cost,
                serials=document.serials,
            )
        case Scrap():
            return scrap(
                uow,
                document.sku,
                document.location,
                document.quantity,
                document.reason,
                unit=document.unit,
                lot=document.lot,
                note=document.note,
                reference=document.reference,
                occurred_at=document.occurred_at,
                serials=document.serials,
            )


@retrying
def post_batch(uow: UnitOfWork, documents: Sequence[Document | DomainError]) -> BatchResult:
    """Apply each document all-or-nothing, in order; keep every one that passes.

    An entry that is already a `DomainError` (a document its entry point could not read) is
    reported as it is, in its place. Each document sees what the ones before it posted.
    """
    if not documents:
        raise InvalidInput("Send at least one document.", "documents")
    if len(documents) > MAX_DOCUMENTS:
        raise InvalidInput(
            f"The batch has {len(documents)} documents; send at most {MAX_DOCUMENTS} per batch.",
            "documents",
        )
    lines = sum(
        len(d.lines) if isinstance(d, Receipt | Shipment | Transfer) else 1
        for d in documents
        if not isinstance(d, DomainError)
    )
    if lines > MAX_LINES:
        raise InvalidInput(
            f"The batch has {lines} lines; send at most {MAX_LINES} lines per batch (split it).",
            "documents",
        )
    outcomes: list[Operation | DomainError | None] = []
    batch = uow.batch(virtual_last=True).open()
    try:
        with batch:  # a deadlock here surfaces as RetryableConflict: the batch runs again
            named = _lock_all(batch, documents)
            plain = _plain(batch, documents, named)
            batch.commit()
        planner = Planner(batch, named.rows, named.levels)
        waiting: list[int] = []  # planned documents not yet written, by index
        for index, document in enumerate(documents):
            if isinstance(document, DomainError):
                outcomes.append(document)
                continue
            if index in plain:
                outcomes.append(None)
                try:
                    _plan(planner, document)
                    waiting.append(index)
                except DomainError as error:
                    outcomes[index] = error
                continue
            _write(planner, waiting, outcomes)
            try:
                outcomes.append(post_document(batch, document))
            except DomainError as error:
                outcomes.append(error)
            planner.forget()
        _write(planner, waiting, outcomes)
    except BaseException:
        batch.close(keep=False)
        raise
    batch.close(keep=True)
    return BatchResult([o for o in outcomes if o is not None])


def _write(
    planner: Planner, waiting: list[int], outcomes: list[Operation | DomainError | None]
) -> None:
    """Write the documents planned so far; each gets its operation in its place."""
    for index, operation in zip(waiting, planner.write(), strict=True):
        outcomes[index] = operation
    waiting.clear()
