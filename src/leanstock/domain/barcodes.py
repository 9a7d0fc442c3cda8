"""Barcodes an item is known by: GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN-13) and GTIN-14.

A GTIN's last digit is a check digit over the others (GS1 General Specifications, §7.9.1):
from the right, skipping the check digit itself, digits are weighted 3, 1, 3, 1, ...; the check
digit brings the weighted sum up to a multiple of 10. A scanner that misreads one digit, or
a person who swaps two neighbours, almost always breaks it, so a wrong check digit is refused.
"""

from __future__ import annotations

from leanstock.domain.errors import InvalidInput

LENGTHS = (8, 12, 13, 14)


def check_digit(body: str) -> int:
    """The GS1 check digit of the digits before it: (10 − Σ wᵢ·dᵢ mod 10) mod 10, with weights
    3, 1, 3, ... from the rightmost digit of `body`."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def barcode(value: str, field: str = "barcode") -> str:
    """A GTIN/EAN/UPC as printed under the bars (spaces and hyphens are dropped), checked."""
    digits = value.replace(" ", "").replace("-", "")
    if not digits.isascii() or not digits.isdigit() or len(digits) not in LENGTHS:
        raise InvalidInput(
            f"{field} {value!r} is not a GTIN: give 8, 12, 13 or 14 digits "
            "(EAN-8, UPC-A, EAN-13 or GTIN-14).",
            field,
        )
    expected = check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise InvalidInput(
            f"{field} {value!r} has a wrong check digit: it ends in {digits[-1]}, but its "
            f"other digits give {expected}. Check the number for a mistyped or swapped digit.",
            field,
        )
    return digits


def scanned(value: str) -> str:
    """What a barcode lookup compares: the code without the spaces or hyphens it was printed
    with (not checked: a lookup of a wrong code simply finds nothing)."""
    return value.replace(" ", "").replace("-", "")
