"""EDI with suppliers that trade by it: purchase orders out (850), acknowledgements (855), ship
notices (856) and invoices (810) in, and a functional acknowledgement (997) for every
interchange received.

Receiving an interchange (`receive`):

1. It is read and its envelopes checked (`adapters/edi/x12.py`): control numbers of ISA/IEA,
   GS/GE and ST/SE agree, and the counts of IEA01, GE01 and SE01 are right.
2. Its sender (ISA05/ISA06) must be a trading partner (`set_partner`), and the interchange
   must be addressed to us (ISA08, GS03); the partner's lock is held until the end, so one
   partner's interchanges are applied one at a time.
3. An interchange already applied (same partner and ISA13) is acknowledged again with the
   acknowledgement it got, and not applied again; one with the same number but other content
   is refused (TA1 025).
4. Each transaction set is a document applied whole or not at all, through the same use cases
   the API calls (acknowledge, ship notice, invoice). A document that cannot be applied (a
   malformed segment, an unknown order, an order in a state that refuses it) changes nothing
   and is rejected in the 997 (AK5 R, with AK3/AK4 where the fault is), with the reason in
   words in the interchange log. A fault in an envelope rejects everything it encloses.
5. The 997 is returned, and kept with the interchange in the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from leanstock.adapters.edi import sets as x12sets
from leanstock.adapters.edi import x12
from leanstock.domain.catalog import Item
from leanstock.domain.edi import (
    Acknowledgement,
    DocumentError,
    InterchangeStatus,
    Invoice,
    ShipNotice,
    ShippedLot,
    TradingPartner,
)
from leanstock.domain.errors import DomainError, InvalidInput, NotFound
from leanstock.domain.events import Changed
from leanstock.domain.orders import PurchaseOrder
from leanstock.domain.orders import number as order_number
from leanstock.domain.orders.ship_notices import NoticeLine
from leanstock.services import invoices, matching, purchasing, supplier_portal
from leanstock.services.edi.partners import our_ids
from leanstock.services.edi.partners import stamp as _stamp
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import BatchUnitOfWork, UnitOfWork
from leanstock.services.purchasing import purchase_id
from leanstock.services.retry import retrying


@dataclass(frozen=True)
class Inbound:
    """What became of an interchange received: its verdict, the 997 to send back, the reasons
    of every rejection in words, and the documents applied."""

    status: InterchangeStatus
    acknowledgement: str
    reasons: list[str]
    documents: list[str]
    supplier: str | None
    control: str
    interchange_id: int


# Inbound


@dataclass
class _Run:
    """An interchange being received: what the acknowledgement will say."""

    interchange: x12.Interchange
    groups: list[x12sets.GroupResult] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)

    def refuse(self, code: str, reason: str) -> None:
        self.interchange.errors.append(x12.EnvelopeError(code, reason))


@retrying
def receive(
    uow: UnitOfWork,
    text: str,
    *,
    actor: str = "system",
    bound_supplier: str | None = None,
    now: datetime | None = None,
) -> Inbound:
    """Receive one interchange (module docstring): apply what it holds, once; the 997.

    `bound_supplier`: the principal is that supplier's user, and may send only its own
    interchanges (another partner's answers as one that does not exist). Raises
    `NotAnInterchange` only for text with no ISA to answer to."""
    moment = now or datetime.now(UTC)
    interchange = x12.read(text)
    run = _Run(interchange)
    digest = hashlib.sha256(text.strip().encode()).hexdigest()
    batch = uow.batch()
    batch.open()
    try:
        result = _receive(batch, run, text, digest, actor, bound_supplier, moment)
    except BaseException:
        batch.close(False)
        raise
    batch.close(True)
    return result


def _receive(
    uow: BatchUnitOfWork,
    run: _Run,
    text: str,
    digest: str,
    actor: str,
    bound_supplier: str | None,
    moment: datetime,
) -> Inbound:
    interchange = run.interchange
    sender = f"{interchange.sender_qualifier}:{interchange.sender}"
    with uow:
        found = uow.edi.partner_from(interchange.sender_qualifier, interchange.sender)
        ours = our_ids(uow)
        uow.commit()
    if bound_supplier is not None and (found is None or found[1].supplier != bound_supplier):
        raise NotFound("trading partner", sender, "body")
    supplier_id, partner = found if found is not None else (None, None)
    if partner is None:
        run.refuse("006", f"No trading partner has the EDI id {sender} (ISA05:ISA06).")
    if (interchange.receiver_qualifier, interchange.receiver) != (
        ours.qualifier,
        ours.interchange_id,
    ):
        run.refuse(
            "008",
            f"The interchange is addressed to {interchange.receiver_qualifier}:"
            f"{interchange.receiver}, not to us ({ours.qualifier}:{ours.interchange_id}).",
        )
    previous = None
    if supplier_id is not None:
        with uow:
            previous = uow.edi.applied(supplier_id, interchange.control)
            uow.commit()
    if previous is not None and previous["digest"] == digest:
        return _log_duplicate(uow, run, previous, supplier_id, partner, text, digest, actor)
    if previous is not None:
        run.refuse(
            "025",
            f"Interchange {interchange.control} from {sender} was already applied, with other "
            "content; send new content under a new control number (ISA13).",
        )
    for group in interchange.groups:
        run.groups.append(_group(uow, run, group, partner, ours, actor, moment))
    status = _status(run)
    for error in interchange.errors:
        run.reasons.insert(0, f"Interchange {interchange.control}: {error.message}")
    with uow:
        control = uow.edi.next_control()
        acknowledgement = _acknowledgement(run, partner, ours, control, moment)
        logged = uow.edi.add_interchange(
            "in",
            supplier_id,
            interchange.control,
            status.value,
            digest,
            text,
            acknowledgement,
            run.reasons,
            run.documents,
            actor,
        )
        uow.record(
            Changed(
                subject=_subject(interchange),
                verb="edi_receive",
                values={
                    "status": status.value,
                    "log": logged,
                    "documents": run.documents,
                    "reasons": run.reasons,
                },
            )
        )
        uow.commit()
    return Inbound(
        status,
        acknowledgement,
        run.reasons,
        run.documents,
        partner.supplier if partner else None,
        interchange.control,
        logged,
    )


def _subject(interchange: x12.Interchange) -> str:
    """How the audit trail names an interchange received: its sender and control number."""
    return f"edi:{interchange.sender_qualifier}:{interchange.sender}/{interchange.control}"


def _log_duplicate(
    uow: BatchUnitOfWork,
    run: _Run,
    previous: dict[str, Any],
    supplier_id: int | None,
    partner: TradingPartner | None,
    text: str,
    digest: str,
    actor: str,
) -> Inbound:
    reason = (
        f"Interchange {run.interchange.control} was applied on {previous['created_at']:%Y-%m-%d}"
        "; acknowledged again, not applied again."
    )
    with uow:
        logged = uow.edi.add_interchange(
            "in",
            supplier_id,
            run.interchange.control,
            InterchangeStatus.DUPLICATE.value,
            digest,
            text,
            previous["acknowledgement"],
            [reason],
            [],
            actor,
        )
        uow.record(
            Changed(
                subject=_subject(run.interchange),
                verb="edi_receive",
                values={"status": InterchangeStatus.DUPLICATE.value, "log": logged},
            )
        )
        uow.commit()
    return Inbound(
        InterchangeStatus.DUPLICATE,
        str(previous["acknowledgement"]),
        [reason],
        [],
        partner.supplier if partner else None,
        run.interchange.control,
        logged,
    )


def _status(run: _Run) -> InterchangeStatus:
    results = [s for g in run.groups for s in g.sets]
    accepted = [s for g in run.groups if not g.errors for s in g.sets if s.accepted]
    if run.interchange.errors or not accepted:
        return InterchangeStatus.REJECTED
    if len(accepted) == len(results) and not any(g.errors for g in run.groups):
        return InterchangeStatus.ACCEPTED
    return InterchangeStatus.PARTIAL


def _group(
    uow: BatchUnitOfWork,
    run: _Run,
    group: x12.Group,
    partner: TradingPartner | None,
    ours: TradingPartner,
    actor: str,
    moment: datetime,
) -> x12sets.GroupResult:
    result = x12sets.GroupResult(group.functional_id, group.control, None, [], list(group.errors))
    if partner is not None and group.sender.upper() != partner.group_id:
        result.errors.append(
            x12.EnvelopeError(
                "", f"GS02 is {group.sender!r}; {partner.supplier}'s is {partner.group_id!r}."
            )
        )
    if group.receiver.upper() != ours.group_id:
        result.errors.append(
            x12.EnvelopeError("", f"GS03 is {group.receiver!r}; ours is {ours.group_id!r}.")
        )
    codes = {ts.code for ts in group.sets}
    wanted = {x12sets.INBOUND.get(code) for code in codes}
    if group.functional_id not in x12sets.INBOUND.values():
        result.errors.append(
            x12.EnvelopeError(
                "1",
                f"GS01 {group.functional_id!r} is not a group Leanstock reads: PR (855), SH (856) "
                "or IN (810).",
            )
        )
    elif wanted - {group.functional_id}:
        result.errors.append(
            x12.EnvelopeError(
                "1", f"Group {group.control} ({group.functional_id}) holds sets of another kind."
            )
        )
    for error in result.errors:
        run.reasons.append(f"Group {group.control}: {error.message}")
    envelope_ok = not run.interchange.errors and not result.errors
    for ts in group.sets:
        result.sets.append(_set(uow, run, ts, partner, envelope_ok, actor, moment))
    return result


def _set(
    uow: BatchUnitOfWork,
    run: _Run,
    ts: x12.TransactionSet,
    partner: TradingPartner | None,
    envelope_ok: bool,
    actor: str,
    moment: datetime,
) -> x12sets.SetResult:
    result = x12sets.SetResult(ts.code, ts.control, list(ts.errors))
    where = f"Transaction set {ts.code} {ts.control}"
    for error in ts.errors:
        run.reasons.append(f"{where}: {error.message}")
    reader = x12sets.READERS.get(ts.code)
    if reader is None:
        result.errors.append(x12.EnvelopeError("1", f"{ts.code} is not a set Leanstock reads."))
        run.reasons.append(f"{where}: not a set Leanstock reads (855, 856 or 810).")
        return result
    if result.errors:
        return result
    try:
        document = reader(ts)
        if not envelope_ok or partner is None:
            result.errors.append(x12.EnvelopeError("5", "Its envelope was rejected."))
            run.reasons.append(f"{where}: not applied, because its envelope was rejected.")
            return result
        with uow.all_or_nothing():
            summary = _apply(uow, partner, document, actor, moment)
        run.documents.append(summary)
    except DocumentError as error:
        result.errors.append(
            x12.EnvelopeError(
                error.code, error.detail, error.segment, error.position, error.element
            )
        )
        run.reasons.append(f"{where}: {error.detail}")
    except DomainError as error:
        # A rule of the order refused it: the document's first segment (its order) is at fault.
        first = ts.segments[0] if ts.segments else None
        result.errors.append(
            x12.EnvelopeError(
                "7",
                error.detail,
                first.id if first else None,
                first.position if first else None,
                _order_element(ts.code),
            )
        )
        run.reasons.append(f"{where}: {error.detail}")
    return result


def _order_element(code: str) -> int:
    """Where each set names our order: BAK03, PRF01 (the 856's BSN02 stands for it), BIG04."""
    return {"855": 3, "856": 2, "810": 4}.get(code, 1)


def _order_of(uow: UnitOfWork, partner: TradingPartner, number: str) -> PurchaseOrder:
    """The partner's own purchase order; another supplier's is answered as a missing one."""
    order, _ = uow.purchasing.get(purchase_id(number))
    if order.supplier != partner.supplier:
        raise NotFound("purchase order", number, "order")
    return order


def _check_line(order: PurchaseOrder, line_no: int, sku: str, seg: str, position: int) -> None:
    try:
        line = order.line(line_no)
    except DomainError as error:
        raise DocumentError(error.detail, seg, position, 1, "7") from error
    if line.sku != sku:
        raise DocumentError(
            f"Line {line_no} of {order.number} is {line.sku}, not {sku}.", seg, position, None, "8"
        )


def _apply(
    uow: BatchUnitOfWork, partner: TradingPartner, document: object, actor: str, moment: datetime
) -> str:
    if isinstance(document, Acknowledgement):
        return _acknowledge(uow, partner, document, actor, moment)
    if isinstance(document, ShipNotice):
        return _ship(uow, partner, document, actor)
    if isinstance(document, Invoice):
        return _invoice(uow, partner, document, actor)
    raise AssertionError(f"no use case for {document!r}")  # pragma: no cover


def _acknowledge(
    uow: BatchUnitOfWork,
    partner: TradingPartner,
    ack: Acknowledgement,
    actor: str,
    moment: datetime,
) -> str:
    with uow:
        order = _order_of(uow, partner, ack.order)
        for line in ack.lines:
            _check_line(order, line.line_no, line.sku, "PO1", line.position)
        # Lines not detailed: all of them as asked (AK), or none of them (RJ).
        lines: dict[int, tuple[Decimal | None, date | None]] = {
            ln.line_no: (Decimal(0) if ack.rejected else None, None) for ln in order.lines
        }
        if ack.lines:
            lines = {ln.line_no: (ln.quantity, ln.delivery) for ln in ack.lines}
    purchasing.acknowledge(uow, ack.order, lines, actor=actor, at=moment)
    return f"855 {ack.order}: {len(lines)} line(s) acknowledged"


def _ship(uow: BatchUnitOfWork, partner: TradingPartner, notice: ShipNotice, actor: str) -> str:
    for shipped in notice.orders:
        with uow:
            order = _order_of(uow, partner, shipped.order)
            for lot in shipped.lots:
                _check_line(order, lot.line_no, lot.sku, "LIN", lot.position)
                _check_lot(uow.catalog.item(lot.sku).value, lot)
        supplier_portal.post_ship_notice(
            uow,
            shipped.order,
            [
                NoticeLine(lot.line_no, lot.quantity, lot.lot, lot.expires_on)
                for lot in shipped.lots
            ],
            expected_date=notice.expected,
            shipped_on=notice.shipped_on,
            carrier=notice.carrier,
            tracking=notice.tracking,
            actor=actor,
        )
    orders = ", ".join(s.order for s in notice.orders)
    lots = [f"{lot.sku} lot {lot.lot}" for s in notice.orders for lot in s.lots if lot.lot]
    return f"856 {notice.shipment} for {orders}" + (f" ({'; '.join(lots)})" if lots else "")


def _check_lot(item: Item, lot: ShippedLot) -> None:
    """The lot rules, said where the 856 breaks them (LIN, DTM)."""
    if item.lot_tracked and lot.lot is None:
        raise DocumentError(
            f"{item.sku} is lot-tracked: give its lot in LIN (LT, then the lot) and its expiry "
            "in DTM*036.",
            "LIN",
            lot.position,
            None,
            "3",
        )
    if not item.lot_tracked and lot.lot is not None:
        raise DocumentError(
            f"{item.sku} is not lot-tracked: leave the lot (LT) out.",
            "LIN",
            lot.position,
            None,
            "2",
        )
    if item.shelf_life_days is not None and lot.expires_on is None:
        raise DocumentError(
            f"{item.sku} is perishable: give the lot's expiry in DTM*036.",
            "DTM",
            lot.position,
            None,
            "3",
        )


def _invoice(uow: BatchUnitOfWork, partner: TradingPartner, invoice: Invoice, actor: str) -> str:
    with uow:
        order = _order_of(uow, partner, invoice.order)
        for line in invoice.lines:
            _check_line(order, line.line_no, line.sku, "IT1", line.position)
    invoices.record_invoice(
        uow,
        invoice.order,
        invoice.number,
        [invoices.InvoiceLine(ln.line_no, ln.quantity, ln.price) for ln in invoice.lines],
        invoiced_on=invoice.invoiced_on,
        source="edi",
        actor=actor,
    )
    found = matching.variances(uow, order=invoice.order, limit=500).total
    flagged = f"; {found} variance(s) for review" if found else ""
    return f"810 {invoice.number} for {invoice.order}{flagged}"


def _acknowledgement(
    run: _Run,
    partner: TradingPartner | None,
    ours: TradingPartner,
    control: int,
    moment: datetime,
) -> str:
    interchange = run.interchange
    envelope = x12.Envelope(
        ours.qualifier,
        ours.interchange_id,
        interchange.sender_qualifier or "ZZ",
        interchange.sender or "UNKNOWN",
        control,
        ours.group_id,
        partner.group_id
        if partner
        else (interchange.groups[0].sender if interchange.groups else "UNKNOWN"),
        interchange.usage if interchange.usage in ("P", "T") else "P",
    )
    stamp = _stamp(moment)
    leading = [x12sets.interchange_acknowledgement(interchange, stamp)]
    return x12.write(envelope, "FA", x12sets.functional_acknowledgement(run.groups), stamp, leading)


# The log


def interchanges(
    uow: UnitOfWork,
    *,
    supplier: str | None = None,
    direction: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[dict[str, Any]]:
    limit, offset = page_bounds(limit, offset)
    if direction is not None and direction not in ("in", "out"):
        raise InvalidInput("direction is 'in' or 'out'.", "direction")
    known = {s.value for s in InterchangeStatus} | {"sent"}
    if status is not None and status not in known:
        raise InvalidInput(f"status is one of {', '.join(sorted(known))}.", "status")
    with uow:
        rows, total = uow.edi.interchanges(supplier, direction, status, limit, offset)
    return Page(rows, total, limit, offset)


def interchange(uow: UnitOfWork, interchange_id: int) -> dict[str, Any]:
    with uow:
        found = uow.edi.interchange(interchange_id)
    if found is None:
        raise NotFound("interchange", interchange_id, "interchange_id")
    return found


def order_numbers(ids: Sequence[int]) -> list[str]:
    return [order_number("purchase", i) for i in ids]
