"""The X12 004010 transaction sets Leanstock trades, mapped to and from `domain.edi`.

Outbound (written in `outbound_sets.py`, re-exported here): the 850 purchase order, the 997
functional acknowledgement (with a TA1 when the interchange envelope itself is at fault).
Inbound: the 855 acknowledgement, the 856 ship notice, the 810 invoice. The segments and codes
each reads are the implementation guide that docs/suppliers.md ("EDI") gives suppliers; any
other segment is refused, so nothing a supplier sends is silently dropped, except the
informational ones listed in `INFORMATIONAL`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from leanstock.adapters.edi.outbound_sets import (
    GroupResult as GroupResult,
)
from leanstock.adapters.edi.outbound_sets import (
    OrderLineOut as OrderLineOut,
)
from leanstock.adapters.edi.outbound_sets import OrderOut as OrderOut
from leanstock.adapters.edi.outbound_sets import SetResult as SetResult
from leanstock.adapters.edi.outbound_sets import (
    functional_acknowledgement as functional_acknowledgement,
)
from leanstock.adapters.edi.outbound_sets import (
    interchange_acknowledgement as interchange_acknowledgement,
)
from leanstock.adapters.edi.outbound_sets import (
    purchase_order as purchase_order,
)
from leanstock.adapters.edi.x12 import Segment, TransactionSet
from leanstock.domain.edi import (
    AckLine,
    Acknowledgement,
    DocumentError,
    Invoice,
    InvoiceLine,
    ShipNotice,
    ShippedLot,
    ShippedOrder,
)
from leanstock.domain.orders import order_id

# Segments that carry nothing Leanstock records: read past, in any set.
INFORMATIONAL = frozenset(
    {
        "REF",
        "PER",
        "DTM",
        "N1",
        "N2",
        "N3",
        "N4",
        "CUR",
        "FOB",
        "ITD",
        "PID",
        "MSG",
        "NTE",
        "TD1",
        "TD3",
        "TD4",
        "TD5",
        "MEA",
        "PKG",
        "PO4",
        "SAC",
        "AMT",
        "CAD",
        "ISS",
        "TXI",
    }
)
INBOUND = {"855": "PR", "856": "SH", "810": "IN"}
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)$")
_INTEGER = re.compile(r"^\d{1,9}$")


def _element(seg: Segment, n: int, what: str, *, required: bool = True) -> str:
    value = seg.get(n)
    if required and not value:
        raise DocumentError(
            f"{seg.id}{n:02d} ({what}) is missing in segment {seg.position}.",
            seg.id,
            seg.position,
            n,
            "1",
        )
    return value


def _decimal(seg: Segment, n: int, what: str, *, implied: int = 0) -> Decimal:
    value = _element(seg, n, what)
    if not _NUMBER.match(value) or len(value) > 18:
        raise DocumentError(
            f"{seg.id}{n:02d} ({what}) must be a number, not {value!r}.",
            seg.id,
            seg.position,
            n,
            "6",
        )
    try:
        number = Decimal(value).scaleb(-implied)
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only numbers
        raise DocumentError(
            f"{seg.id}{n:02d} is not a number.", seg.id, seg.position, n, "6"
        ) from error
    if number.as_tuple().exponent < -6:  # type: ignore[operator]
        raise DocumentError(
            f"{seg.id}{n:02d} ({what}) has more than 6 decimals: {value!r}.",
            seg.id,
            seg.position,
            n,
            "6",
        )
    return number


def _quantity(seg: Segment, n: int, what: str) -> Decimal:
    number = _decimal(seg, n, what)
    if number < 0:
        raise DocumentError(
            f"{seg.id}{n:02d} ({what}) must not be negative.", seg.id, seg.position, n, "6"
        )
    return number


def _date(seg: Segment, n: int, what: str) -> date:
    value = _element(seg, n, what)
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError(value)
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError as error:
        raise DocumentError(
            f"{seg.id}{n:02d} ({what}) must be a date CCYYMMDD, not {value!r}.",
            seg.id,
            seg.position,
            n,
            "8",
        ) from error


def _line_no(seg: Segment, n: int) -> int:
    value = _element(seg, n, "our line number, as sent in the 850's PO101")
    if not _INTEGER.match(value) or int(value) == 0:
        raise DocumentError(
            f"{seg.id}{n:02d} must be our line number (1, 2, ...), as the 850 sent it; "
            f"not {value!r}.",
            seg.id,
            seg.position,
            n,
            "7",
        )
    return int(value)


def _order(seg: Segment, n: int) -> str:
    value = _element(seg, n, "our purchase order number")
    if order_id("purchase", value) is None:
        raise DocumentError(
            f"{seg.id}{n:02d} must be our purchase order number (PO-000123), as the 850's "
            f"BEG03 sent it; not {value!r}.",
            seg.id,
            seg.position,
            n,
            "7",
        )
    return value.upper()


def _sku(seg: Segment, first: int) -> str:
    """The buyer's part number: the pair (qualifier BP, value) among the product ids starting
    at element `first`."""
    for n in range(first, len(seg.elements), 2):
        if seg.get(n) == "BP" and seg.get(n + 1):
            return seg.get(n + 1)
    raise DocumentError(
        f"{seg.id} (segment {seg.position}) must name our SKU as buyer's part number: "
        f"'BP' then the SKU, from {seg.id}{first:02d} on.",
        seg.id,
        seg.position,
        first,
        "1",
    )


def _lot(seg: Segment, first: int) -> str | None:
    for n in range(first, len(seg.elements), 2):
        if seg.get(n) == "LT":
            return _element(seg, n + 1, "the lot number after LT")
    return None


def _unexpected(seg: Segment, where: str) -> DocumentError:
    if seg.id in INFORMATIONAL:
        raise AssertionError("informational segments are read past")  # pragma: no cover
    return DocumentError(
        f"Segment {seg.id} (number {seg.position}) is not read in {where}; see the EDI guide "
        "in docs/suppliers.md for the segments Leanstock reads.",
        seg.id,
        seg.position,
        None,
        "2",
    )


def _count(seg: Segment, counted: int, what: str) -> None:
    stated = _element(seg, 1, f"the number of {what}")
    if not _INTEGER.match(stated) or int(stated) != counted:
        raise DocumentError(
            f"CTT01 says {stated!r} {what}; the document has {counted}.",
            "CTT",
            seg.position,
            1,
            "7",
        )


def _first(ts: TransactionSet, seg_id: str) -> Segment:
    body = ts.segments
    if not body or body[0].id != seg_id:
        raise DocumentError(
            f"A {ts.code} begins with {seg_id}.", seg_id, body[0].position if body else 2, None, "3"
        )
    return body[0]


def acknowledgement(ts: TransactionSet) -> Acknowledgement:
    """855: BAK*00*{AC|AD|AK|RJ}*PO-000123*CCYYMMDD; per line PO1*{line}*{qty}*{unit}*{price}
    **BP*{sku} and ACK*{IA|IC|IQ|DR|IR|IB|...}*{qty}*{unit}*{067|017}*{delivery date}."""
    bak = _first(ts, "BAK")
    kind = _element(bak, 2, "acknowledgement type")
    if kind not in ("AC", "AD", "AK", "RJ"):
        raise DocumentError(
            "BAK02 must be AC (with changes), AD (as ordered, with detail), AK (as ordered, no "
            f"detail) or RJ (rejected); not {kind!r}.",
            "BAK",
            bak.position,
            2,
            "7",
        )
    number = _order(bak, 3)
    lines: list[AckLine] = []
    current: Segment | None = None
    parts: list[tuple[Decimal, date | None]] = []
    counted = 0

    def close() -> None:
        if current is None:
            return
        sku = _sku(current, 6)
        line_no = _line_no(current, 1)
        if any(ln.line_no == line_no for ln in lines):
            raise DocumentError(
                f"Line {line_no} is acknowledged twice.", "PO1", current.position, 1, "7"
            )
        if kind == "RJ":
            lines.append(AckLine(line_no, sku, Decimal(0), None, current.position))
        elif parts:
            dates = [d for q, d in parts if q > 0 and d is not None]
            total = sum((q for q, _ in parts), Decimal(0))
            lines.append(AckLine(line_no, sku, total, max(dates, default=None), current.position))
        else:
            lines.append(AckLine(line_no, sku, None, None, current.position))

    for seg in ts.segments[1:]:
        if seg.id == "PO1":
            close()
            current, parts = seg, []
            counted += 1
            _quantity(seg, 2, "quantity ordered")
        elif seg.id == "ACK" and current is not None:
            status = _element(seg, 1, "line status")
            if status in ("IR", "ID"):
                parts.append((Decimal(0), None))
                continue
            quantity = _quantity(seg, 2, "quantity")
            when: date | None = None
            if seg.get(4) or seg.get(5):
                if seg.get(4) not in ("067", "017", "002"):
                    raise DocumentError(
                        "ACK04 must be 067 (current schedule delivery), 017 (estimated "
                        "delivery) or 002 (delivery requested): Leanstock promises the day the "
                        f"goods arrive; not {seg.get(4)!r}.",
                        "ACK",
                        seg.position,
                        4,
                        "7",
                    )
                when = _date(seg, 5, "delivery date")
            parts.append((quantity, when))
        elif seg.id == "CTT":
            close()
            current = None
            _count(seg, counted, "PO1 lines")
        elif seg.id not in INFORMATIONAL:
            raise _unexpected(seg, "an 855")
    close()
    if kind in ("AC", "AD") and not lines:
        raise DocumentError(
            f"BAK02 {kind} promises line detail: send a PO1 with ACK per line, or AK.",
            "BAK",
            bak.position,
            2,
            "7",
        )
    return Acknowledgement(number, tuple(lines), bak.position, kind == "RJ")


def ship_notice(ts: TransactionSet) -> ShipNotice:
    """856: BSN*00*{shipment id}*CCYYMMDD*HHMM; HL levels S (shipment: TD5 carrier, REF*CN
    tracking, DTM*011 shipped, DTM*017 expected delivery), O (order: PRF*PO-000123), optional P
    or T (packs), I (item: LIN*{line}*BP*{sku}[*LT*{lot}], SN1**{qty}*{unit}, DTM*036 expiry)."""
    bsn = _first(ts, "BSN")
    shipment = _element(bsn, 2, "shipment id")
    shipped_on = expected = None
    carrier = tracking = None
    levels: dict[str, tuple[str, str]] = {}  # HL01 -> (parent, level)
    order_of: dict[str, int] = {}  # HL01 of an order level -> index in orders
    orders: list[tuple[str, int, list[ShippedLot]]] = []
    level = ""
    hl_id = ""
    item: dict[str, object] | None = None
    counted_hl = counted_lin = 0

    def close_item() -> None:
        nonlocal item
        if item is None:
            return
        lin = item["lin"]
        assert isinstance(lin, Segment)
        if "quantity" not in item:
            raise DocumentError(
                f"The item at LIN segment {lin.position} has no SN1 (quantity shipped).",
                "SN1",
                lin.position,
                None,
                "3",
            )
        parent = item["order"]
        assert isinstance(parent, int)
        quantity = item["quantity"]
        assert isinstance(quantity, Decimal)
        expires = item.get("expires")
        assert expires is None or isinstance(expires, date)
        orders[parent][2].append(
            ShippedLot(
                _line_no(lin, 1), _sku(lin, 2), quantity, _lot(lin, 2), expires, lin.position
            )
        )
        item = None

    for seg in ts.segments[1:]:
        if seg.id == "HL":
            close_item()
            counted_hl += 1
            hl_id, parent, level = seg.get(1), seg.get(2), seg.get(3)
            if hl_id != str(counted_hl):
                raise DocumentError(
                    f"HL01 must count the HL segments 1, 2, ...: expected {counted_hl}, found "
                    f"{hl_id!r}.",
                    "HL",
                    seg.position,
                    1,
                    "7",
                )
            if level not in ("S", "O", "P", "T", "I"):
                raise DocumentError(
                    "HL03 must be S (shipment), O (order), T or P (pack) or I (item); "
                    f"not {level!r}.",
                    "HL",
                    seg.position,
                    3,
                    "7",
                )
            if (level == "S") != (parent == "") or (parent and parent not in levels):
                raise DocumentError(
                    "HL02 must name an earlier HL as parent (none for the shipment level).",
                    "HL",
                    seg.position,
                    2,
                    "7",
                )
            levels[hl_id] = (parent, level)
            if level == "O":
                order_of[hl_id] = len(orders)
                orders.append(("", seg.position, []))
            elif level == "I":
                ancestor = parent
                while ancestor and levels[ancestor][1] != "O":
                    ancestor = levels[ancestor][0]
                if not ancestor:
                    raise DocumentError(
                        "An item level (HL03 I) must be under an order level (HL03 O).",
                        "HL",
                        seg.position,
                        2,
                        "7",
                    )
                item = {"order": order_of[ancestor]}
        elif seg.id == "PRF" and level == "O":
            index = order_of[hl_id]
            orders[index] = (_order(seg, 1), seg.position, orders[index][2])
        elif seg.id == "LIN" and item is not None and "lin" not in item:
            counted_lin += 1
            item["lin"] = seg
        elif seg.id == "SN1" and item is not None and "lin" in item:
            item["quantity"] = _quantity(seg, 2, "quantity shipped")
            if item["quantity"] == 0:
                raise DocumentError(
                    "SN102 (quantity shipped) must be greater than zero.",
                    "SN1",
                    seg.position,
                    2,
                    "7",
                )
        elif seg.id == "DTM" and item is not None and seg.get(1) == "036":
            item["expires"] = _date(seg, 2, "expiry date")
        elif seg.id == "DTM" and level == "S" and seg.get(1) in ("011", "017"):
            if seg.get(1) == "011":
                shipped_on = _date(seg, 2, "ship date")
            else:
                expected = _date(seg, 2, "estimated delivery date")
        elif seg.id == "TD5" and level == "S":
            carrier = seg.get(3) or seg.get(5) or None
        elif seg.id == "REF" and level == "S" and seg.get(1) in ("CN", "BM"):
            tracking = seg.get(2) or None
        elif seg.id == "CTT":
            close_item()
            stated = _element(seg, 1, "the number of HL segments")
            if stated not in (str(counted_hl), str(counted_lin)):
                raise DocumentError(
                    f"CTT01 says {stated!r}; the document has {counted_hl} HL and {counted_lin} "
                    "LIN segments.",
                    "CTT",
                    seg.position,
                    1,
                    "7",
                )
        elif seg.id not in INFORMATIONAL:
            raise _unexpected(seg, "an 856")
    close_item()
    if not orders:
        raise DocumentError(
            "An 856 needs an order level (HL03 O) with PRF naming our order.",
            "HL",
            bsn.position,
            None,
            "3",
        )
    shipped: list[ShippedOrder] = []
    for number, position, lots in orders:
        if not number:
            raise DocumentError(
                f"The order level at segment {position} has no PRF naming our purchase order.",
                "PRF",
                position,
                None,
                "3",
            )
        if not lots:
            raise DocumentError(
                f"{number} is in the ship notice without any item (HL03 I with LIN and SN1).",
                "HL",
                position,
                None,
                "3",
            )
        shipped.append(ShippedOrder(number, tuple(lots), position))
    return ShipNotice(shipment, shipped_on, expected, carrier, tracking, tuple(shipped))


def invoice(ts: TransactionSet) -> Invoice:
    """810: BIG*CCYYMMDD*{invoice number}**PO-000123; per line IT1*{line}*{qty}*{unit}*{unit
    price}**BP*{sku}; TDS*{total in cents}; optional SAC*{A|C}****{amount in cents}."""
    big = _first(ts, "BIG")
    invoiced_on = _date(big, 1, "invoice date")
    number = _element(big, 2, "invoice number")
    if len(number) > 64:
        raise DocumentError(
            "BIG02 (invoice number) is over 64 characters.", "BIG", big.position, 2, "5"
        )
    order = _order(big, 4)
    lines: list[InvoiceLine] = []
    total: Decimal | None = None
    charges = Decimal(0)
    for seg in ts.segments[1:]:
        if seg.id == "IT1":
            line_no = _line_no(seg, 1)
            if any(ln.line_no == line_no for ln in lines):
                raise DocumentError(
                    f"Line {line_no} is invoiced twice.", "IT1", seg.position, 1, "7"
                )
            quantity = _quantity(seg, 2, "quantity invoiced")
            if quantity == 0:
                raise DocumentError(
                    "IT102 (quantity invoiced) must be over zero.", "IT1", seg.position, 2, "7"
                )
            price = _quantity(seg, 4, "unit price")
            lines.append(InvoiceLine(line_no, _sku(seg, 6), quantity, price, seg.position))
        elif seg.id == "TDS":
            total = _decimal(seg, 1, "total amount, in cents", implied=2)
        elif seg.id == "SAC":
            amount = _decimal(seg, 5, "allowance or charge amount, in cents", implied=2)
            if seg.get(1) not in ("A", "C"):
                raise DocumentError(
                    "SAC01 must be A (allowance) or C (charge).", "SAC", seg.position, 1, "7"
                )
            charges += amount if seg.get(1) == "C" else -amount
        elif seg.id == "CTT":
            _count(seg, len(lines), "IT1 lines")
        elif seg.id not in INFORMATIONAL:
            raise _unexpected(seg, "an 810")
    if not lines:
        raise DocumentError("An 810 needs at least one IT1 line.", "IT1", big.position, None, "3")
    if total is None:
        raise DocumentError("An 810 needs its TDS (total amount).", "TDS", big.position, None, "3")
    computed = sum((ln.quantity * ln.price for ln in lines), Decimal(0)) + charges
    if abs(computed - total) >= Decimal("0.01"):
        raise DocumentError(
            f"TDS01 says {total}, but the lines (quantity × unit price) and SAC charges add up "
            f"to {computed.quantize(Decimal('0.01'))}.",
            "TDS",
            None,
            1,
            "7",
        )
    return Invoice(number, invoiced_on, order, tuple(lines), total, big.position)


READERS: dict[str, Callable[[TransactionSet], object]] = {
    "855": acknowledgement,
    "856": ship_notice,
    "810": invoice,
}
