"""Customer records and GTIN barcodes: their rules, without a database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leanstock.domain.barcodes import barcode, check_digit
from leanstock.domain.customers import Customer
from leanstock.domain.errors import InvalidInput


@pytest.mark.parametrize(
    "printed",
    ["4006381333931", "036000291452", "96385074", "10614141000415", "400-6381-33393 1"],
)
def test_published_gtins_pass_their_check_digit(printed: str) -> None:
    assert barcode(printed) == printed.replace("-", "").replace(" ", "")


@given(
    st.sampled_from([8, 12, 13, 14]).flatmap(
        lambda n: st.text("0123456789", min_size=n - 1, max_size=n - 1)
    )
)
def test_every_single_digit_error_is_caught(body: str) -> None:
    good = body + str(check_digit(body))
    assert barcode(good) == good
    for position in range(len(good)):
        for digit in "0123456789":
            if digit != good[position]:
                wrong = good[:position] + digit + good[position + 1 :]
                with pytest.raises(InvalidInput, match="wrong check digit"):
                    barcode(wrong)


@pytest.mark.parametrize(
    "value", ["", "12345", "123456789012345", "40063813339X1", "４００６３８１３３３９３１"]
)
def test_what_is_no_gtin_is_refused_naming_the_lengths(value: str) -> None:
    with pytest.raises(InvalidInput, match="8, 12, 13 or 14 digits"):
        barcode(value)


def test_a_customer_ships_to_its_shipping_address_else_its_billing_address() -> None:
    billed = Customer("C1", "One", billing_address="1 Main St")
    assert billed.ship_to == "1 Main St"
    assert (
        Customer("C2", "Two", billing_address="x", shipping_address="Dock\n 4 ").ship_to
        == "Dock\n4"
    )
    assert Customer("C3", "Three", email=" ").email is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"priority": 0}, "priority"),
        ({"priority": 10}, "priority"),
        ({"email": "no-at-sign"}, "email"),
        ({"code": "two words"}, "code"),
        ({"name": "  "}, "name"),
        ({"billing_address": "x" * 501}, "billing_address"),
    ],
)
def test_a_bad_customer_is_refused_naming_its_field(values: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Customer(**{"code": "C1", "name": "One", **values})  # type: ignore[arg-type]
    assert refused.value.field == field
