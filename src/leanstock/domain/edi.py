"""EDI in the business's words: trading partners, and the documents a supplier sends us.

An X12 interchange (read and written in `adapters/edi`) carries documents: a purchase order
acknowledgement (855), a ship notice (856), an invoice (810). They are mapped onto these
records, which the services apply to the purchase order's life cycle; nothing here knows X12's
segments beyond the codes people use to talk about them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from leanstock.domain.errors import InvalidInput

# ISA05/ISA07 qualifiers (X12 data element I05) a partner id may be given under.
QUALIFIERS = {
    "01": "DUNS",
    "08": "UCC EDI communications id",
    "12": "phone number",
    "14": "DUNS plus suffix",
    "16": "DUNS plus 4-character suffix",
    "ZZ": "mutually defined",
}
_PARTNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,14}$")
_GROUP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{1,14}$")

# X12 units of measure (data element 355) for the units items are kept in.
UNITS = {
    "each": "EA",
    "ea": "EA",
    "pc": "EA",
    "pcs": "EA",
    "piece": "EA",
    "unit": "EA",
    "kg": "KG",
    "g": "GR",
    "l": "LT",
    "litre": "LT",
    "liter": "LT",
    "ml": "ML",
    "lb": "LB",
    "oz": "OZ",
    "m": "MR",
    "box": "BX",
    "case": "CA",
    "pack": "PK",
    "bag": "BG",
    "bottle": "BO",
    "can": "CN",
    "dozen": "DZ",
    "roll": "RL",
    "sack": "SA",
    "carton": "CT",
    "pallet": "PL",
}


def unit_code(unit: str, sku: str) -> str:
    """The X12 unit of measure for an item's unit; refused for a unit X12 has no code for here."""
    found = UNITS.get(unit.strip().lower())
    if found is None:
        raise InvalidInput(
            f"Item {sku} is kept in {unit!r}, which has no X12 unit code here "
            f"(known: {', '.join(sorted(UNITS))}); keep the item in one of those units to "
            "order it by EDI.",
            "unit",
        )
    return found


@dataclass(frozen=True)
class TradingPartner:
    """A supplier that trades by EDI: the ids its interchanges (ISA06 under ISA05) and groups
    (GS02) come from. Ours are in the settings (`Settings.edi_*`)."""

    supplier: str
    qualifier: str
    interchange_id: str
    group_id: str

    def __post_init__(self) -> None:
        qualifier = self.qualifier.strip().upper()
        if qualifier not in QUALIFIERS:
            known = ", ".join(f"{k} ({v})" for k, v in QUALIFIERS.items())
            raise InvalidInput(f"The ISA qualifier must be one of {known}.", "qualifier")
        if not _PARTNER_ID.match(self.interchange_id.strip()):
            raise InvalidInput(
                "The interchange id (ISA06) must be 1-15 letters, digits, spaces, '.', '_' or '-'.",
                "interchange_id",
            )
        if not _GROUP_ID.match(self.group_id.strip()):
            raise InvalidInput(
                "The group id (GS02) must be 2-15 letters, digits, spaces, '.', '_' or '-'.",
                "group_id",
            )
        object.__setattr__(self, "qualifier", qualifier)
        object.__setattr__(self, "interchange_id", self.interchange_id.strip().upper())
        object.__setattr__(self, "group_id", self.group_id.strip().upper())


class InterchangeStatus(StrEnum):
    ACCEPTED = "accepted"
    PARTIAL = "partially_accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class DocumentError(InvalidInput):
    """A document that cannot be applied, and where: `segment` (its id), `position` (in the
    transaction set, ST = 1), `element` (1-based) and `code` (X12 AK403: 1 mandatory element
    missing, 6 invalid character, 7 invalid code value, 8 invalid date; AK304 when `element`
    is None: 1 unrecognised segment, 2 unexpected, 3 mandatory segment missing)."""

    def __init__(
        self,
        detail: str,
        segment: str | None = None,
        position: int | None = None,
        element: int | None = None,
        code: str = "7",
    ) -> None:
        super().__init__(detail, "body")
        self.segment = segment
        self.position = position
        self.element = element
        self.code = code


@dataclass(frozen=True)
class AckLine:
    """The supplier's answer for one line: what it will deliver (None: as ordered), and by
    when (None: as asked)."""

    line_no: int
    sku: str
    quantity: Decimal | None
    delivery: date | None
    position: int  # of the PO1 segment, for the acknowledgement of this document


@dataclass(frozen=True)
class Acknowledgement:
    """`rejected`: the supplier refuses the whole order (BAK02 RJ): every line it does not
    detail is confirmed at 0."""

    order: str
    lines: tuple[AckLine, ...]
    position: int  # of BAK
    rejected: bool = False


@dataclass(frozen=True)
class ShippedLot:
    """Part of a line on its way: `quantity`, in lot `lot` (None for an item not lot-tracked)
    expiring `expires_on`."""

    line_no: int
    sku: str
    quantity: Decimal
    lot: str | None
    expires_on: date | None
    position: int  # of the LIN segment


@dataclass(frozen=True)
class ShippedOrder:
    order: str
    lots: tuple[ShippedLot, ...]
    position: int  # of PRF


@dataclass(frozen=True)
class ShipNotice:
    shipment: str
    shipped_on: date | None
    expected: date | None
    carrier: str | None
    tracking: str | None
    orders: tuple[ShippedOrder, ...]


@dataclass(frozen=True)
class InvoiceLine:
    line_no: int
    sku: str
    quantity: Decimal
    price: Decimal
    position: int  # of IT1


@dataclass(frozen=True)
class Invoice:
    number: str
    invoiced_on: date
    order: str
    lines: tuple[InvoiceLine, ...]
    total: Decimal
    position: int  # of BIG
