"""Errors in the business's words.

Each carries what a person needs to act on it; the API turns them into problem responses in
one place (`entrypoints/api/problems.py`), the CLI into a red line.
"""

from __future__ import annotations

from decimal import Decimal


class DomainError(Exception):
    """A request the business rules refuse. `field` names the input at fault, when one is."""

    title = "Request refused"

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInput(DomainError):
    """The request is malformed in a way only the business rules can tell."""

    title = "Invalid input"


class NotFound(DomainError):
    title = "Not found"

    def __init__(self, kind: str, key: object, field: str | None = None) -> None:
        super().__init__(f"No {kind} {key!s} exists.", field)
        self.kind = kind
        self.key = key


class AlreadyExists(DomainError):
    title = "Already exists"

    def __init__(self, kind: str, key: object, field: str | None = None) -> None:
        super().__init__(f"{kind.capitalize()} {key!s} already exists.", field)


class Conflict(DomainError):
    """The request is well formed but the current state of stock or an order forbids it."""

    title = "Conflict with the current state"


class InvalidQuantity(InvalidInput):
    def __init__(self, quantity: Decimal, field: str = "quantity", why: str = "") -> None:
        super().__init__(why or f"Quantity must be greater than zero, not {quantity}.", field)


class SameLocation(InvalidInput):
    def __init__(self, location: str) -> None:
        super().__init__(f"Source and target are both {location}; a move needs two.", "target")


class WrongUnit(InvalidInput):
    def __init__(self, item: str, unit: str, expected: str) -> None:
        super().__init__(f"Item {item} is counted in {expected!r}, not {unit!r}.", "unit")


class LotRequired(InvalidInput):
    def __init__(self, item: str) -> None:
        super().__init__(f"Item {item} is lot-tracked: name the lot.", "lot")


class LotNotTracked(InvalidInput):
    def __init__(self, item: str) -> None:
        super().__init__(f"Item {item} is not lot-tracked: leave the lot out.", "lot")


class OutOfStock(Conflict):
    title = "Not enough stock"

    def __init__(
        self, item: str, location: str, wanted: Decimal, available: Decimal, lot: str | None = None
    ) -> None:
        where = f"{location}, lot {lot}" if lot else location
        super().__init__(
            f"Only {available} of {item} available at {where}; {wanted} wanted.", "quantity"
        )
        self.item = item
        self.location = location
        self.wanted = wanted
        self.available = available


class LotExpired(Conflict):
    title = "Lot expired"

    def __init__(self, item: str, lot: str, expired_on: object) -> None:
        super().__init__(f"Lot {lot} of {item} expired on {expired_on}; it cannot be used.", "lot")


class InvalidTransition(Conflict):
    title = "Not allowed in this state"


class NotAuthenticated(DomainError):
    """No credentials, or ones that are not (or no longer) valid: 401."""

    title = "Not signed in"


class Forbidden(DomainError):
    """The caller is known but may not do this: 403. Never used for objects they may not see
    (those are `NotFound`, so ids do not leak)."""

    title = "Not allowed"


class TooManyAttempts(DomainError):
    """Sign-in refused for a while after repeated failures: 429 with Retry-After."""

    title = "Too many failed sign-ins"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed sign-ins; try again in {retry_after} seconds.", None)
        self.retry_after = retry_after
