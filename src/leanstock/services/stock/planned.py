"""A batch's plain documents planned in memory and written together.

Posting a batch document by document costs its statements (and a savepoint) per document, a
few milliseconds each, while the batch holds every stock row it names locked; eight clients
sending batches then mostly wait for each other. But a batch has locked and can read every
row its documents change before the first one (`batch._lock_all`), so for the documents that
need nothing else from the database the rules can run on what was read, and the moves of a
whole run of documents can be written in a few statements.

Plain documents are receipts, shipments and transfers dated now that name no serials, whose
receipts name no lot and fill no backorder (`batch._plain`). Each is checked by the
functions a single request runs (`moves.checked_lines`, `posting.resolve_lines`,
`moves.receipt_postings`, `moves.pick_lines`: availability, expiry, first-expired-first-out),
against the locked rows as the documents before it left them; a refused one leaves them as
they were. Any other document is posted by its use case, as before, after what was planned
so far is written; the rows are then read again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leanstock.domain import catalog
from leanstock.domain.errors import InvalidInput
from leanstock.domain.ledger import LotStock, MoveKind, OperationRecord, Place, Posting, StockLevel
from leanstock.domain.serials import SerialMove
from leanstock.services.ports import BatchUnitOfWork
from leanstock.services.posting import (
    MoveLine,
    Operation,
    StockLine,
    audit_operation,
    checked_time,
    current_day,
    resolve_lines,
)
from leanstock.services.stock.moves import checked_lines, pick_lines, receipt_postings

Key = tuple[int, int]


@dataclass(frozen=True)
class Planned:
    """A document's moves, decided; written by `Planner.write`."""

    kind: MoveKind
    verb: str
    postings: list[tuple[str, Posting]]
    when: datetime
    reference: str | None
    partner: str | None
    reason: str | None
    audit: dict[str, Any]


class Planner:
    """The locked rows of a batch as planned documents leave them, and the plans not yet
    written."""

    def __init__(
        self, uow: BatchUnitOfWork, rows: dict[Key, Place], levels: dict[Key, StockLevel]
    ) -> None:
        self.uow = uow
        self.rows = rows
        # The rows as the batch locked them; their lots are read when first needed.
        self.levels: dict[Key, StockLevel] | None = levels
        self.lots: dict[Key, list[LotStock]] = {}
        self.pending: list[Planned] = []
        self._read = False
        self._suppliers: set[str] = set()

    def _read_rows(self) -> dict[Key, StockLevel]:
        """The rows (locked by this transaction already) and their lots: one query, two
        after a document posted by its use case."""
        keys = sorted(self.rows)
        if self.levels is None:
            self.levels = self.uow.ledger.lock_stocks(
                [(item, self.rows[(item, loc)]) for item, loc in keys]
            )
        if not self._read:
            self.lots = self.uow.ledger.lots_of(keys)
            self._read = True
        return self.levels

    def forget(self) -> None:
        """A document posted by its use case changed the rows: read them again when next
        needed."""
        self._read = False
        self.levels = None

    def receipt(
        self,
        location: str,
        lines: Sequence[StockLine],
        supplier: str | None,
        reference: str | None,
    ) -> None:
        checked = checked_lines(lines)
        when = checked_time(None)
        if supplier is not None and supplier not in self._suppliers:
            self.uow.catalog.supplier(supplier)
            self._suppliers.add(supplier)
        source = self.uow.virtual_place(catalog.SUPPLIER)
        resolved = resolve_lines(self.uow, checked, {"location": location})
        postings, serials = receipt_postings(self.uow, resolved, source, when)
        _no_serials(serials)
        self._read_rows()
        self._keep(postings, {})
        self.pending.append(
            Planned(
                MoveKind.RECEIPT,
                "receive",
                postings,
                when,
                reference,
                supplier,
                None,
                {"supplier": supplier},
            )
        )

    def take(
        self,
        kind: MoveKind,
        lines: Sequence[StockLine],
        origin: str,
        field: str,
        destination: Place | str,
        reference: str | None,
        partner: str | None = None,
        reason: str | None = None,
    ) -> None:
        """A shipment (to `destination`, the customer) or a transfer (to the location named
        `destination`) from `origin`."""
        checked = checked_lines(lines)
        when = checked_time(None)
        if isinstance(destination, str) and destination == origin:
            raise InvalidInput(
                f"Source and target are both {origin}; a transfer needs two.", "target"
            )
        names = {field: origin} | ({"target": destination} if isinstance(destination, str) else {})
        resolved = resolve_lines(self.uow, checked, names)
        levels = self._read_rows()
        keys = {(item.id, places[field].id) for _, _, item, places in resolved}
        held = {key: self.lots[key] for key in keys}
        postings, serials = pick_lines(
            self.uow, resolved, field, destination, levels, held, current_day(None)
        )
        _no_serials(serials)
        self._keep(postings, held)
        verb, audit = (
            ("ship", {"customer": partner}) if kind is MoveKind.SHIPMENT else ("transfer", {})
        )
        self.pending.append(Planned(kind, verb, postings, when, reference, partner, reason, audit))

    def _keep(self, postings: list[tuple[str, Posting]], taken: dict[Key, list[LotStock]]) -> None:
        """The sources as the picks left them (`taken`); the targets with what arrived."""
        self.lots.update(taken)
        for _, p in postings:
            key = (p.item_id, p.target.id)
            if key not in self.lots:
                continue  # a virtual location: not a row of the batch
            source = self.lots.get((p.item_id, p.source.id), [])
            expiry = next((s.expires_on for s in source if s.lot == p.lot), None)
            held = self.lots[key]
            if any(s.lot == p.lot for s in held):
                self.lots[key] = [
                    LotStock(s.lot, s.quantity + p.quantity, s.expires_on) if s.lot == p.lot else s
                    for s in held
                ]
            else:
                self.lots[key] = [*held, LotStock(p.lot, p.quantity, expiry)]

    def write(self) -> list[Operation]:
        """Record the planned documents' operations, moves and balance changes, and their
        audit rows, in a few statements; the operations in the order planned."""
        planned, self.pending = self.pending, []
        if not planned:
            return []
        with self.uow:
            ids = self.uow.ledger.post_history(
                [
                    OperationRecord(
                        p.kind.value,
                        [posting for _, posting in p.postings],
                        p.when,
                        p.reference,
                        p.partner,
                        p.reason,
                    )
                    for p in planned
                ]
            )
            operations = []
            for op_id, p in zip(ids, planned, strict=True):
                lines = [
                    MoveLine(sku, x.source.code, x.target.code, x.quantity, x.lot)
                    for sku, x in p.postings
                ]
                operation = Operation(op_id, p.kind.value, p.when, p.reference, lines)
                audit_operation(self.uow, p.verb, operation, **p.audit)
                operations.append(operation)
            self.uow.commit()
        return operations


def _no_serials(serials: Sequence[SerialMove]) -> None:
    """A batch plans no document that names serials (`batch._plain`), and an item that is
    serial-tracked is refused without them, so a plan moves none."""
    if serials:
        raise RuntimeError("A planned document moved serials; it should have run its use case.")
