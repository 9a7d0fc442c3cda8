"""Request and response bodies of customers and item barcodes. Unknown fields are rejected."""

from __future__ import annotations

from pydantic import Field

from leanstock.domain.customers import Customer
from leanstock.entrypoints.api.schemas import Code, In, Out

Priority = Field(
    default=5, ge=1, le=9, description="1 is served first when stock is short, 9 last; 5 usual."
)
Address = Field(default=None, max_length=500, description="As printed on a label; lines by \\n.")


class CustomerIn(In):
    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=200)
    billing_address: str | None = Address
    shipping_address: str | None = Field(
        default=None, max_length=500, description="Where goods go; the billing address if unset."
    )
    priority: int = Priority
    active: bool = True

    def customer(self) -> Customer:
        return Customer(**self.model_dump())


class CustomerPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=200)
    billing_address: str | None = Address
    shipping_address: str | None = Field(default=None, max_length=500)
    priority: int | None = Field(default=None, ge=1, le=9)
    active: bool | None = None


class CustomerOut(Out):
    code: str
    name: str
    email: str | None
    phone: str | None
    billing_address: str | None
    shipping_address: str | None
    ship_to: str | None = Field(description="Where deliveries go: shipping, else billing address.")
    priority: int
    active: bool


class BarcodeIn(In):
    barcode: str = Field(
        min_length=1,
        max_length=32,
        description="A GTIN: EAN-8, UPC-A (12), EAN-13 or GTIN-14 digits with a valid check digit.",
    )


class BarcodesOut(Out):
    sku: str
    barcodes: list[str]
