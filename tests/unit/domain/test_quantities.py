"""Exact quantities: what the database stores without rounding, or a refusal naming the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leanstock.domain.errors import InvalidQuantity
from leanstock.domain.quantities import exact, positive


@pytest.mark.parametrize(
    "value", ["1e30", 10**30, "-1e30", Decimal("1E+1000000"), "1e12", "-999999999999999.5"]
)
def test_a_number_too_large_is_refused_not_a_decimal_overflow(value: object) -> None:
    with pytest.raises(InvalidQuantity, match="too large"):
        exact(value, "unit_cost")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["1e-30", "0.0000001"])
def test_more_than_six_places_is_refused(value: str) -> None:
    with pytest.raises(InvalidQuantity, match="decimal places"):
        positive(value)


def test_the_largest_exact_number_is_taken() -> None:
    assert exact("999999999999.999999") == Decimal("999999999999.999999")
