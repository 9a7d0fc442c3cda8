"""Customers: who sales orders and drop-ship deliveries go to.

A customer record has a code (what orders refer to), a name, a billing and a shipping address
and a priority. Orders may still name a customer by free text alone (a walk-in sale at the
counter); such an order has no record and counts at the walk-in priority.

Priority orders the customers waiting for the same stock: 1 goes first, 9 last
(`domain.orders.backorders.fill_order`); a walk-in, and a customer who was given none, is 5.
"""

from __future__ import annotations

from dataclasses import dataclass

from leanstock.domain.catalog import code, text
from leanstock.domain.errors import InvalidInput

HIGHEST_PRIORITY = 1
LOWEST_PRIORITY = 9
WALK_IN_PRIORITY = 5


def priority(value: int, field: str = "priority") -> int:
    """A customer priority: a whole number from 1 (served first) to 9 (served last)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be a whole number from 1 to 9.", field)
    if not HIGHEST_PRIORITY <= value <= LOWEST_PRIORITY:
        raise InvalidInput(
            f"{field} {value} is out of range: give 1 (served first) to 9 (served last).", field
        )
    return value


def _address(value: str | None, field: str) -> str | None:
    """An address as printed on a label: up to 500 characters over any number of lines."""
    if value is None:
        return None
    lines = [line.strip() for line in value.strip().splitlines()]
    joined = "\n".join(line for line in lines if line)
    if not joined:
        return None
    if len(joined) > 500:
        raise InvalidInput(f"{field} must be at most 500 characters.", field)
    return joined


@dataclass(frozen=True)
class Customer:
    code: str
    name: str
    email: str | None = None
    phone: str | None = None
    billing_address: str | None = None
    # Where goods go (a drop-ship from the supplier too); the billing address when not given.
    shipping_address: str | None = None
    priority: int = WALK_IN_PRIORITY
    active: bool = True

    def __post_init__(self) -> None:
        code(self.code, "code")
        object.__setattr__(self, "name", text(self.name, "name"))
        for field in ("email", "phone"):
            value = getattr(self, field)
            if value is not None:
                stripped = value.strip()
                object.__setattr__(self, field, text(stripped, field) if stripped else None)
        if self.email is not None and "@" not in self.email:
            raise InvalidInput(f"email {self.email!r} is not an e-mail address.", "email")
        object.__setattr__(
            self, "billing_address", _address(self.billing_address, "billing_address")
        )
        object.__setattr__(
            self, "shipping_address", _address(self.shipping_address, "shipping_address")
        )
        priority(self.priority)

    @property
    def ship_to(self) -> str | None:
        """Where a delivery to this customer goes."""
        return self.shipping_address or self.billing_address
