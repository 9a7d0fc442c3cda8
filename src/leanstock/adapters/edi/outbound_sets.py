"""The X12 004010 transaction sets Leanstock sends: the 850 purchase order, and the 997
functional acknowledgement (with a TA1 when the interchange envelope itself is at fault) for
every interchange received (`sets.py` reads the inbound ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from leanstock.adapters.edi.x12 import EnvelopeError, Interchange, segment

# The 850


@dataclass(frozen=True)
class OrderLineOut:
    line_no: int
    sku: str
    name: str
    quantity: Decimal
    unit: str  # X12 code
    price: Decimal
    delivery: date | None
    supplier_sku: str | None


@dataclass(frozen=True)
class OrderOut:
    number: str
    ordered_on: date
    ship_to: str
    ship_to_name: str
    lines: tuple[OrderLineOut, ...]


def _amount(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def purchase_order(order: OrderOut) -> list[str]:
    """850 body: BEG, N1 ship-to (our location, or the drop-ship customer), per line PO1 (our
    line number, quantity, unit, price, BP our SKU, VP the supplier's), PID description, DTM*002
    delivery requested; CTT with the line count and the quantities' hash total."""
    body = [
        segment("BEG", "00", "SA", order.number, "", order.ordered_on.strftime("%Y%m%d")),
        segment("N1", "ST", order.ship_to_name, "92", order.ship_to),
    ]
    for line in order.lines:
        ids = ["BP", line.sku]
        if line.supplier_sku:
            ids += ["VP", line.supplier_sku]
        body.append(
            segment(
                "PO1",
                str(line.line_no),
                _amount(line.quantity),
                line.unit,
                _amount(line.price),
                "",
                *ids,
            )
        )
        body.append(segment("PID", "F", "", "", "", line.name[:80]))
        if line.delivery is not None:
            body.append(segment("DTM", "002", line.delivery.strftime("%Y%m%d")))
    hash_total = sum((ln.quantity for ln in order.lines), Decimal(0))
    body.append(segment("CTT", str(len(order.lines)), _amount(hash_total)))
    return body


# The 997


@dataclass
class SetResult:
    """What became of one transaction set: accepted, or rejected with its errors."""

    code: str
    control: str
    errors: list[EnvelopeError] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.errors


@dataclass
class GroupResult:
    functional_id: str
    control: str
    stated: int | None  # GE01, when readable
    sets: list[SetResult] = field(default_factory=list)
    errors: list[EnvelopeError] = field(default_factory=list)

    @property
    def status(self) -> str:
        accepted = sum(s.accepted for s in self.sets)
        if self.errors or accepted == 0:
            return "R"
        return "A" if accepted == len(self.sets) else "P"


def _ak5_codes(result: SetResult) -> list[str]:
    codes = [e.code for e in result.errors if e.segment is None and e.code]
    if any(e.segment is not None for e in result.errors):
        codes.append("5")
    return list(dict.fromkeys(codes))[:5]


def functional_acknowledgement(groups: Sequence[GroupResult]) -> list[tuple[str, list[str]]]:
    """One 997 per group received: AK1, then per set AK2, its segment errors (AK3, AK4) and
    AK5; AK9 with the group's verdict and counts."""
    sets: list[tuple[str, list[str]]] = []
    for group in groups:
        body = [segment("AK1", group.functional_id, group.control)]
        for result in group.sets:
            body.append(segment("AK2", result.code, result.control))
            for error in result.errors:
                if error.segment is None:
                    continue
                body.append(
                    segment(
                        "AK3",
                        error.segment[:3],
                        str(error.position or 1),
                        "",
                        error.code if error.element is None else "8",
                    )
                )
                if error.element is not None:
                    body.append(segment("AK4", str(error.element), "", error.code))
            body.append(segment("AK5", "A" if result.accepted else "R", *_ak5_codes(result)))
        accepted = sum(s.accepted for s in group.sets)
        if group.errors:
            accepted = 0
        status = group.status
        body.append(
            segment(
                "AK9",
                status,
                str(group.stated if group.stated is not None else len(group.sets)),
                str(len(group.sets)),
                str(accepted),
                *list(dict.fromkeys(e.code for e in group.errors if e.code))[:5],
            )
        )
        sets.append(("997", body))
    return sets


def interchange_acknowledgement(interchange: Interchange, when: str) -> str:
    """TA1: the interchange envelope's verdict (A, or R with the first note code)."""
    code = interchange.errors[0].code if interchange.errors else "000"
    return segment(
        "TA1",
        interchange.control,
        when[2:8],
        when[8:12],
        "R" if interchange.errors else "A",
        code,
    )
