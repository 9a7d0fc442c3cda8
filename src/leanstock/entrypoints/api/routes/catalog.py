"""Items, locations, suppliers and supplier items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from leanstock.domain.catalog import Item, ItemKind, Location, LocationKind, Policy, Supplier
from leanstock.entrypoints.api.customer_schemas import BarcodeIn, BarcodesOut
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import (
    ItemIn,
    ItemOut,
    ItemPatch,
    LocationIn,
    LocationOut,
    LocationPatch,
    PageOut,
    SupplierIn,
    SupplierItemIn,
    SupplierItemOut,
    SupplierItemPatch,
    SupplierOut,
    SupplierPatch,
)
from leanstock.services import catalog

router = APIRouter()


@router.post("/items", status_code=201, tags=["catalog"], dependencies=[permit("catalog:write")])
def create_item(body: ItemIn, uow: UowDep) -> ItemOut:
    """Add an item to the catalog, with the barcodes it is scanned by."""
    item = catalog.add_item(uow, Item(**body.model_dump(exclude={"barcodes"})), body.barcodes)
    return ItemOut.of(item, catalog.barcodes_of(uow, [item.sku])[item.sku])


@router.get("/items", tags=["catalog"], dependencies=[permit("catalog:read")])
def list_items(
    uow: UowDep,
    limit: Limit = 50,
    offset: Offset = 0,
    q: Annotated[str | None, Query(description="Part of the SKU or name.")] = None,
    category: Annotated[
        str | None,
        Query(
            description="The category exactly as stored (case-sensitive): `cakes` does not "
            "match `cake`. Each item shows its category."
        ),
    ] = None,
    kind: ItemKind | None = None,
    policy: Policy | None = None,
    lot_tracked: bool | None = None,
    active: bool | None = None,
) -> PageOut[ItemOut]:
    """Items, by SKU, filtered and paginated."""
    page = catalog.list_items(
        uow,
        limit,
        offset,
        search=q,
        category=category,
        kind=kind,
        policy=policy,
        lot_tracked=lot_tracked,
        active=active,
    )
    codes = catalog.barcodes_of(uow, [i.sku for i in page.items])
    return PageOut[ItemOut](
        items=[ItemOut.of(i, codes[i.sku]) for i in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/items/{sku}", tags=["catalog"], dependencies=[permit("catalog:read")])
def get_item(sku: str, uow: UowDep) -> ItemOut:
    """An item, by SKU or by one of its barcodes."""
    item = catalog.get_item(uow, sku)
    return ItemOut.of(item, catalog.barcodes_of(uow, [item.sku])[item.sku])


@router.patch("/items/{sku}", tags=["catalog"], dependencies=[permit("catalog:write")])
def update_item(sku: str, body: ItemPatch, uow: UowDep) -> ItemOut:
    """Change some fields of an item (barcodes: `/items/{sku}/barcodes`)."""
    item = catalog.update_item(uow, sku, body.changes())
    return ItemOut.of(item, catalog.barcodes_of(uow, [item.sku])[item.sku])


@router.get("/items/{sku}/barcodes", tags=["catalog"], dependencies=[permit("catalog:read")])
def list_barcodes(sku: str, uow: UowDep) -> BarcodesOut:
    """The barcodes an item is scanned by."""
    real = catalog.sku_of(uow, sku)
    return BarcodesOut(sku=real, barcodes=catalog.barcodes_of(uow, [real])[real])


@router.post(
    "/items/{sku}/barcodes",
    status_code=201,
    tags=["catalog"],
    dependencies=[permit("catalog:write")],
)
def add_barcode(sku: str, body: BarcodeIn, uow: UowDep) -> BarcodesOut:
    """Give an item one more barcode: a GTIN with a valid check digit, used by no other item."""
    codes = catalog.add_barcode(uow, sku, body.barcode)
    return BarcodesOut(sku=catalog.sku_of(uow, sku), barcodes=codes)


@router.delete(
    "/items/{sku}/barcodes/{barcode}", tags=["catalog"], dependencies=[permit("catalog:write")]
)
def remove_barcode(sku: str, barcode: str, uow: UowDep) -> BarcodesOut:
    """Take a barcode off an item; answers the barcodes it keeps."""
    real = catalog.sku_of(uow, sku)
    return BarcodesOut(sku=real, barcodes=catalog.remove_barcode(uow, real, barcode))


@router.post(
    "/locations", status_code=201, tags=["catalog"], dependencies=[permit("catalog:write")]
)
def create_location(body: LocationIn, uow: UowDep) -> LocationOut:
    """Add a warehouse, store, quarantine or work-in-progress location."""
    return LocationOut.model_validate(catalog.add_location(uow, Location(**body.model_dump())))


@router.get("/locations", tags=["catalog"], dependencies=[permit("catalog:read")])
def list_locations(
    uow: UowDep,
    limit: Limit = 50,
    offset: Offset = 0,
    kind: LocationKind | None = None,
    physical: bool | None = None,
) -> PageOut[LocationOut]:
    page = catalog.list_locations(uow, limit, offset, kind=kind, physical=physical)
    return PageOut[LocationOut].model_validate(page)


@router.get("/locations/{code}", tags=["catalog"], dependencies=[permit("catalog:read")])
def get_location(code: str, uow: UowDep) -> LocationOut:
    return LocationOut.model_validate(catalog.get_location(uow, code))


@router.patch("/locations/{code}", tags=["catalog"], dependencies=[permit("catalog:write")])
def update_location(code: str, body: LocationPatch, uow: UowDep) -> LocationOut:
    return LocationOut.model_validate(catalog.update_location(uow, code, body.changes()))


@router.post(
    "/suppliers", status_code=201, tags=["suppliers"], dependencies=[permit("supplier:write")]
)
def create_supplier(body: SupplierIn, uow: UowDep) -> SupplierOut:
    return SupplierOut.model_validate(catalog.add_supplier(uow, Supplier(**body.model_dump())))


@router.get("/suppliers", tags=["suppliers"], dependencies=[permit("supplier:read")])
def list_suppliers(
    uow: UowDep, limit: Limit = 50, offset: Offset = 0, active: bool | None = None
) -> PageOut[SupplierOut]:
    page = catalog.list_suppliers(uow, limit, offset, active=active)
    return PageOut[SupplierOut].model_validate(page)


@router.get("/suppliers/{code}", tags=["suppliers"], dependencies=[permit("supplier:read")])
def get_supplier(code: str, uow: UowDep) -> SupplierOut:
    return SupplierOut.model_validate(catalog.get_supplier(uow, code))


@router.patch("/suppliers/{code}", tags=["suppliers"], dependencies=[permit("supplier:write")])
def update_supplier(code: str, body: SupplierPatch, uow: UowDep) -> SupplierOut:
    return SupplierOut.model_validate(catalog.update_supplier(uow, code, body.changes()))


@router.post(
    "/suppliers/{code}/items",
    status_code=201,
    tags=["suppliers"],
    dependencies=[permit("supplier:write")],
)
def create_supplier_item(code: str, body: SupplierItemIn, uow: UowDep) -> SupplierItemOut:
    """The terms on which this supplier sells an item: price, MOQ, pack size, lead time. They
    may be given in a purchase unit (`unit`, e.g. a sack); they are kept in the stock unit."""
    terms = catalog.add_supplier_item(uow, body.terms(code), unit=body.unit)
    return SupplierItemOut.model_validate(terms)


@router.get("/suppliers/{code}/items", tags=["suppliers"], dependencies=[permit("supplier:read")])
def list_supplier_items(
    code: str, uow: UowDep, limit: Limit = 50, offset: Offset = 0
) -> PageOut[SupplierItemOut]:
    page = catalog.list_supplier_items(uow, limit, offset, supplier=code)
    return PageOut[SupplierItemOut].model_validate(page)


@router.patch(
    "/suppliers/{code}/items/{sku}", tags=["suppliers"], dependencies=[permit("supplier:write")]
)
def update_supplier_item(
    code: str, sku: str, body: SupplierItemPatch, uow: UowDep
) -> SupplierItemOut:
    return SupplierItemOut.model_validate(
        catalog.update_supplier_item(uow, code, sku, body.changes(), unit=body.unit)
    )


@router.get("/items/{sku}/suppliers", tags=["suppliers"], dependencies=[permit("supplier:read")])
def list_item_suppliers(
    sku: str, uow: UowDep, limit: Limit = 50, offset: Offset = 0
) -> PageOut[SupplierItemOut]:
    """Who sells this item, preferred first."""
    page = catalog.list_supplier_items(uow, limit, offset, sku=sku)
    return PageOut[SupplierItemOut].model_validate(page)
