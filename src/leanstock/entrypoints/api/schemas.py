"""Request and response bodies of the HTTP API. Unknown fields are rejected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from leanstock.domain.catalog import (
    CostingMethod,
    ItemKind,
    LocationKind,
    Policy,
    PriceBreak,
    SupplierItem,
)
from leanstock.domain.errors import InvalidInput
from leanstock.domain.ledger import ScrapReason, ShipmentReason
from leanstock.entrypoints.api import bounds
from leanstock.entrypoints.api.bounds import Days, Positive, PositiveDays, Quantity
from leanstock.services.stock import StockLine

T = TypeVar("T")

Code = Field(min_length=1, max_length=64)


class In(BaseModel):
    """A request body: unknown fields refused, and every text and date in bounds
    (`bounds.checked`, stated in the OpenAPI document by `bounds.document`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _in_bounds(cls, value: Any, info: ValidationInfo) -> Any:
        return bounds.checked(value)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        found = handler(core_schema)
        bounds.document(handler.resolve_ref_schema(found))
        return found

    def changes(self) -> dict[str, Any]:
        """The fields a PATCH body actually sets."""
        return self.model_dump(exclude_unset=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageOut(Out, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# Catalog


class ItemIn(In):
    sku: str = Code
    name: str = Field(min_length=1, max_length=200)
    unit: str = "each"
    kind: ItemKind = ItemKind.BOUGHT
    category: str = "general"
    unit_cost: Quantity = Decimal(0)
    lot_tracked: bool = False
    shelf_life_days: PositiveDays | None = Field(default=None, gt=0)
    policy: Policy = Policy.REORDER_POINT
    active: bool = True
    costing: CostingMethod | None = Field(
        default=None, description="fifo or moving_average; unset: the company's default."
    )
    divisible: bool | None = Field(
        default=None,
        description="False: whole stock units only. Unset: false for a unit of whole things "
        "(each, box, pack, ...) or a serial-tracked item, else true.",
    )
    serial_tracked: bool = Field(
        default=False, description="Every unit carries a serial, named whenever it moves."
    )
    barcodes: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="GTINs (EAN-8, UPC-A, EAN-13, GTIN-14) the item is scanned by; each "
        "belongs to one item. Wherever an item is named, a barcode may stand for its SKU.",
    )


class ItemPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    unit: str | None = None
    kind: ItemKind | None = None
    category: str | None = None
    unit_cost: Quantity | None = None
    lot_tracked: bool | None = None
    shelf_life_days: PositiveDays | None = Field(default=None, gt=0)
    policy: Policy | None = None
    active: bool | None = None
    costing: CostingMethod | None = None
    divisible: bool | None = None
    serial_tracked: bool | None = None


class ItemOut(Out):
    sku: str
    name: str
    unit: str
    kind: ItemKind
    category: str
    unit_cost: Decimal
    lot_tracked: bool
    shelf_life_days: int | None
    policy: Policy
    active: bool
    costing: CostingMethod | None
    divisible: bool
    serial_tracked: bool
    barcodes: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, item: Any, barcodes: Sequence[str]) -> ItemOut:
        return cls.model_validate(item).model_copy(update={"barcodes": list(barcodes)})


class LocationIn(In):
    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    kind: LocationKind = LocationKind.WAREHOUSE
    allow_negative: bool = False


class LocationPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    allow_negative: bool | None = None


class LocationOut(Out):
    code: str
    name: str
    kind: LocationKind
    allow_negative: bool
    is_physical: bool


class SupplierIn(In):
    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200)
    active: bool = True


class SupplierPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200)
    active: bool | None = None


class SupplierOut(Out):
    code: str
    name: str
    email: str | None
    active: bool


class PriceBreakIn(In):
    min_quantity: Quantity = Field(description="From this order quantity on ...")
    price: Quantity = Field(description="... the whole order costs this per unit.")


class PriceBreakOut(Out):
    min_quantity: Decimal
    price: Decimal


class SupplierItemIn(In):
    sku: str = Code
    price: Quantity
    lead_time_days: Days = Field(ge=0)
    moq: Quantity = Decimal(1)
    pack_size: Quantity = Decimal(1)
    priority: Positive = Field(default=1, ge=1)
    supplier_sku: str | None = Field(default=None, max_length=64)
    price_breaks: list[PriceBreakIn] = Field(default_factory=list, max_length=50)
    unit: str | None = Field(
        default=None,
        description="The unit price, MOQ, pack size and price breaks are in (a purchase unit "
        "with a conversion, e.g. a sack); stored in the stock unit. Default: the stock unit.",
    )

    def terms(self, supplier: str) -> SupplierItem:
        return SupplierItem(
            supplier=supplier,
            **self.model_dump(exclude={"price_breaks", "unit"}),
            price_breaks=tuple(PriceBreak(b.min_quantity, b.price) for b in self.price_breaks),
        )


class SupplierItemPatch(In):
    price: Quantity | None = None
    lead_time_days: Days | None = Field(default=None, ge=0)
    moq: Quantity | None = None
    pack_size: Quantity | None = None
    priority: Positive | None = Field(default=None, ge=1)
    supplier_sku: str | None = Field(default=None, max_length=64)
    price_breaks: list[PriceBreakIn] | None = Field(default=None, max_length=50)
    unit: str | None = Field(
        default=None, description="The unit the changed price and quantities are in."
    )

    def changes(self) -> dict[str, Any]:
        found = super().changes()
        found.pop("unit", None)
        if "price_breaks" in found:
            found["price_breaks"] = tuple(
                PriceBreak(b.min_quantity, b.price) for b in self.price_breaks or []
            )
        return found


class SupplierItemOut(Out):
    supplier: str
    sku: str
    price: Decimal
    lead_time_days: int
    moq: Decimal
    pack_size: Decimal
    priority: int
    supplier_sku: str | None
    price_breaks: list[PriceBreakOut]


# Stock operations


Serials = Field(
    default=None,
    max_length=10000,
    description="A serial-tracked item: one serial per unit moved (required for it, refused "
    "for any other item).",
)


class StockOperationIn(In):
    sku: str = Code
    quantity: Quantity
    unit: str | None = None
    lot: str | None = Field(default=None, min_length=1, max_length=64)
    serials: list[str] | None = Serials
    reference: str | None = Field(default=None, max_length=200)
    occurred_at: datetime | None = None


class StockLineIn(In):
    sku: str = Code
    quantity: Quantity
    unit: str | None = None
    lot: str | None = Field(default=None, min_length=1, max_length=64)
    serials: list[str] | None = Serials


class ReceiptLineIn(StockLineIn):
    expires_on: date | None = Field(default=None, description="For a new lot.")
    unit_cost: Quantity | None = Field(
        default=None, description="Cost per `unit`; the item's unit cost when not given."
    )


class DocumentIn(In):
    """A receipt, shipment or transfer: one item (`sku`, `quantity`, ...) or several `lines`."""

    sku: str | None = Field(default=None, min_length=1, max_length=64)
    quantity: Quantity | None = None
    unit: str | None = None
    lot: str | None = Field(default=None, min_length=1, max_length=64)
    serials: list[str] | None = Serials
    lines: list[StockLineIn] | None = Field(default=None, max_length=500)
    reference: str | None = Field(default=None, max_length=200)
    occurred_at: datetime | None = None

    def stock_lines(self, expires_on: date | None = None) -> list[StockLine]:
        if self.lines is not None:
            one = (self.sku, self.quantity, self.lot, self.serials)
            if any(value is not None for value in one):
                raise InvalidInput("Give either sku and quantity, or lines, not both.", "lines")
            return [
                StockLine(
                    x.sku,
                    x.quantity,
                    x.unit,
                    x.lot,
                    getattr(x, "expires_on", None),
                    serials=tuple(x.serials or ()),
                )
                for x in self.lines
            ]
        if self.sku is None:
            raise InvalidInput("sku is required (or several lines).", "sku")
        if self.quantity is None:
            raise InvalidInput("quantity is required.", "quantity")
        serials = tuple(self.serials or ())
        return [
            StockLine(self.sku, self.quantity, self.unit, self.lot, expires_on, serials=serials)
        ]


class ReceiptIn(DocumentIn):
    location: str = Code
    lines: list[ReceiptLineIn] | None = Field(default=None, max_length=500)  # type: ignore[assignment]
    expires_on: date | None = None
    supplier: str | None = None
    unit_cost: Quantity | None = Field(
        default=None, description="Cost per `unit`; the item's unit cost when not given."
    )

    def receipt_lines(self) -> list[StockLine]:
        """The lines, each with its cost (`unit_cost` goes with `sku`, not with `lines`)."""
        if self.lines is not None and self.unit_cost is not None:
            raise InvalidInput("Give unit_cost on each line, not beside lines.", "unit_cost")
        found = self.stock_lines(self.expires_on)
        if self.lines is None:
            return [replace(found[0], unit_cost=self.unit_cost)]
        costs = [getattr(x, "unit_cost", None) for x in self.lines]
        return [replace(line, unit_cost=cost) for line, cost in zip(found, costs, strict=True)]


class ShipmentIn(DocumentIn):
    location: str = Code
    customer: str | None = Field(default=None, max_length=64)
    reason: ShipmentReason | None = Field(
        default=None, description="`sale` (a counter sale) counts as demand for the forecasts."
    )


class TransferIn(DocumentIn):
    source: str = Code
    target: str = Code


class ScrapIn(StockOperationIn):
    location: str = Code
    reason: ScrapReason
    note: str | None = Field(default=None, max_length=1000)


class CountIn(In):
    sku: str = Code
    location: str = Code
    counted: Quantity
    serials: list[str] | None = Field(
        default=None,
        max_length=10000,
        description="A serial-tracked item: the serials found, one per unit counted (those "
        "booked here and not found become the difference).",
    )
    unit_cost: Quantity | None = Field(
        default=None,
        description="Cost per `unit` of stock the count finds beyond the books (an opening "
        "balance); the item's unit cost when not given.",
    )
    unit: str | None = None
    lot: str | None = Field(default=None, min_length=1, max_length=64)
    expires_on: date | None = None
    reference: str | None = Field(default=None, max_length=200)
    occurred_at: datetime | None = None


class MoveLineOut(Out):
    sku: str
    source: str
    target: str
    quantity: Decimal
    lot: str | None


class OperationOut(Out):
    id: int | None = Field(description="None when nothing had to move (a count that matched).")
    kind: str
    occurred_at: datetime
    reference: str | None
    moves: list[MoveLineOut]


class ReservationIn(In):
    sku: str = Code
    location: str = Code
    quantity: Quantity
    reference: str = Field(min_length=1, max_length=200)
    unit: str | None = None


class ReservationChangeIn(In):
    quantity: Quantity | None = Field(
        default=None, description="How much; leave out for all that is still open."
    )
    lot: str | None = Field(default=None, min_length=1, max_length=64)
    occurred_at: datetime | None = None


class ReservationConsumeIn(ReservationChangeIn):
    serials: list[str] | None = Serials


class ReleaseIn(In):
    quantity: Quantity | None = Field(
        default=None, description="How much; leave out for all that is still open."
    )


class ReservationOut(Out):
    id: int
    sku: str
    location: str
    reference: str
    quantity: Decimal
    open_quantity: Decimal
    status: str
    created_at: datetime
    updated_at: datetime


class StockLevelOut(Out):
    sku: str
    unit: str
    location: str
    on_hand: Decimal
    reserved: Decimal
    expired: Decimal
    available: Decimal


class StockAsOfOut(Out):
    sku: str
    location: str
    lot: str | None
    on_hand: Decimal


class LotLevelOut(Out):
    location: str
    lot: str | None
    quantity: Decimal
    expires_on: date | None
    expired: bool


class MoveOut(Out):
    id: int
    operation_id: int
    kind: str
    lot: str | None
    source: str
    target: str
    quantity: Decimal
    occurred_at: datetime
    recorded_at: datetime
    reference: str | None
    partner: str | None
    reason: str | None


class QuarantineReleaseIn(StockOperationIn):
    location: str = Field(
        min_length=1, max_length=64, description="The warehouse or store the goods go to."
    )
    quarantine: str = Field(default="QUARANTINE", min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=1000)


class SupplierReturnIn(StockOperationIn):
    purchase_order: str | None = Field(
        default=None, max_length=32, description="The order the goods came on (PO-000042)."
    )
    supplier: str | None = Field(default=None, max_length=64)
    quarantine: str = Field(default="QUARANTINE", min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=1000)


class QuarantineScrapIn(StockOperationIn):
    reason: ScrapReason
    quarantine: str = Field(default="QUARANTINE", min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=1000)


class ExpiryIn(In):
    today: date | None = Field(
        default=None, description="The day to judge expiry on (default: today, UTC)."
    )


class ExpiryOut(Out):
    day: date
    operation: OperationOut
