"""What every order shares: its number, and the refusal of a transition its state forbids."""

from __future__ import annotations

from decimal import Decimal

from leanstock.domain.errors import InvalidTransition

ZERO = Decimal(0)

PREFIXES = {"sales": "SO", "purchase": "PO", "production": "MO", "transfer": "TO"}


def number(kind: str, order_id: int) -> str:
    """The order number people use: SO-000042 for sales order 42."""
    return f"{PREFIXES[kind]}-{order_id:06d}"


def order_id(kind: str, value: str) -> int | None:
    """The id behind an order number, or None when `value` is not one of `kind`."""
    prefix, _, digits = value.upper().partition("-")
    if prefix != PREFIXES[kind] or not digits.isdigit():
        return None
    return int(digits)


def refused(what: str, status: str, verb: str, hint: str = "") -> InvalidTransition:
    return InvalidTransition(
        f"{what} is {status}; it cannot be {verb}.{' ' + hint if hint else ''}"
    )
