"""Exact quantities and money: Decimals with at most six decimal places."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from leanstock.domain.errors import InvalidQuantity

PLACES = 6
QUANTUM = Decimal(1).scaleb(-PLACES)
MAX_ABS = Decimal(10) ** 12


def exact(value: Decimal | int | str, field: str = "quantity") -> Decimal:
    """`value` as a Decimal the database stores without rounding, or `InvalidQuantity`."""
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidQuantity(Decimal(0), field, f"{value!r} is not a number.") from None
    if not number.is_finite():
        raise InvalidQuantity(number, field, f"{field} must be a finite number, not {value}.")
    # Size first, by the exponent: quantizing 1E+30 to six places needs more digits than the
    # context has, and abs(1E+1000000) overflows it.
    if number and number.adjusted() >= MAX_ABS.adjusted():
        raise InvalidQuantity(
            number, field, f"{field} {number} is too large: it must be below {MAX_ABS:,}."
        )
    if number != number.quantize(QUANTUM, rounding="ROUND_DOWN"):
        raise InvalidQuantity(number, field, f"{field} has more than {PLACES} decimal places.")
    return number + 0


def positive(value: Decimal | int | str, field: str = "quantity") -> Decimal:
    """An exact quantity greater than zero (a move, a reservation, an order line)."""
    number = exact(value, field)
    if number <= 0:
        raise InvalidQuantity(number, field, f"{field} must be greater than zero, not {number}.")
    return number


def non_negative(value: Decimal | int | str, field: str = "quantity") -> Decimal:
    """An exact quantity of zero or more (a count, a price, a minimum order quantity)."""
    number = exact(value, field)
    if number < 0:
        raise InvalidQuantity(number, field, f"{field} must not be negative, not {number}.")
    return number


def tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (10, not 1E+1)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()
