"""Advance ship notices (ASN): what a supplier sent against a purchase order, when, with
which carrier and tracking number, and per line the lot and its expiry date.

The notice moves the order to shipped (`PurchaseOrder.ship`) and is then what our warehouse
receives against: a receipt made from a notice takes its lots and expiry dates, so nobody
keys them in again. A notice is received once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from leanstock.domain.errors import InvalidInput, InvalidTransition


class NoticeStatus(StrEnum):
    OPEN = "open"
    RECEIVED = "received"


@dataclass(frozen=True)
class NoticeLine:
    line_no: int
    quantity: Decimal
    lot: str | None = None
    expires_on: date | None = None


@dataclass
class ShipNotice:
    order: str
    lines: list[NoticeLine]
    created_by: str
    created_at: datetime
    shipped_on: date | None = None
    expected_date: date | None = None
    carrier: str | None = None
    tracking: str | None = None
    status: NoticeStatus = NoticeStatus.OPEN
    received_at: datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        shipped, expected = self.shipped_on, self.expected_date
        if shipped is not None and expected is not None and expected < shipped:
            raise InvalidInput(
                f"The goods cannot arrive ({self.expected_date}) before they ship "
                f"({self.shipped_on}).",
                "expected_date",
            )
        if self.tracking is not None and self.carrier is None:
            raise InvalidInput("A tracking number needs its carrier: name the carrier.", "carrier")

    def quantities(self) -> dict[int, Decimal]:
        """What ships per order line (a line may come in several lots)."""
        found: dict[int, Decimal] = {}
        for line in self.lines:
            found[line.line_no] = found.get(line.line_no, Decimal(0)) + line.quantity
        return found

    def receive(self, at: datetime) -> None:
        if self.status is NoticeStatus.RECEIVED:
            raise InvalidTransition(
                f"Ship notice {self.id} on {self.order} has been received already."
            )
        self.status, self.received_at = NoticeStatus.RECEIVED, at

    def facts(self) -> dict[str, Any]:
        """The notice as the audit trail and the webhooks carry it."""
        return {
            "id": self.id,
            "shipped_on": self.shipped_on,
            "carrier": self.carrier,
            "tracking": self.tracking,
            "lines": [
                {
                    "line": ln.line_no,
                    "quantity": ln.quantity,
                    "lot": ln.lot,
                    "expires": ln.expires_on,
                }
                for ln in self.lines
            ],
        }


def check_lines(lines: Sequence[NoticeLine]) -> None:
    """Each lot at most once per line, and a quantity above zero."""
    seen: set[tuple[int, str | None]] = set()
    for line in lines:
        if line.quantity <= 0:
            raise InvalidInput(
                f"Line {line.line_no} ships {line.quantity}: ship more than zero.", "lines"
            )
        key = (line.line_no, line.lot)
        if key in seen:
            raise InvalidInput(
                f"Line {line.line_no} names lot {line.lot or '(none)'} twice: one row per lot.",
                "lines",
            )
        seen.add(key)
