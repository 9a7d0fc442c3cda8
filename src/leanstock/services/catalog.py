"""Catalog use cases: items, locations, suppliers and the terms suppliers sell items on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any

from leanstock.domain import units
from leanstock.domain.barcodes import barcode, scanned
from leanstock.domain.catalog import Item, Location, Supplier, SupplierItem
from leanstock.domain.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from leanstock.domain.events import Changed, created, diff, facts
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import Stored, UnitOfWork
from leanstock.services.retry import retrying


def _changed(uow: UnitOfWork, subject: str, verb: str, before: Any, after: Any) -> None:
    """Audit an update: the fields that changed, before and after."""
    changes = diff(facts(before), facts(after))
    if changes:
        uow.record(Changed(subject=subject, verb=verb, values=changes))


@retrying
def add_item(uow: UnitOfWork, item: Item, barcodes: Sequence[str] = ()) -> Item:
    """Add an item, with the barcodes it is known by (each checked, and used by no other)."""
    codes = _checked(barcodes)
    with uow:
        owner = uow.catalog.barcode_owner(scanned(item.sku))
        if owner is not None:
            raise InvalidInput(
                f"SKU {item.sku} is a barcode of item {owner}; a scan of it would be "
                "ambiguous. Choose another SKU.",
                "sku",
            )
        stored = uow.catalog.add_item(item)
        uow.record(
            Changed(subject=f"item:{item.sku}", verb="item_create", values=created(facts(item)))
        )
        for code in codes:
            _add_barcode(uow, stored, code)
        uow.commit()
    return item


def _checked(barcodes: Sequence[str], field: str = "barcodes") -> list[str]:
    """Each barcode checked (`domain.barcodes`), in its plain digits; a repeat is refused."""
    codes = [barcode(b, field) for b in barcodes]
    if len(set(codes)) != len(codes):
        twice = next(c for c in codes if codes.count(c) > 1)
        raise InvalidInput(f"Barcode {twice} is given twice; give each once.", field)
    return codes


def _add_barcode(uow: UnitOfWork, item: Stored[Item], code: str, field: str = "barcodes") -> None:
    """Give `item` the (checked) barcode `code`: refused when another item has it, or it is
    another item's SKU."""
    owner = uow.catalog.barcode_owner(code)
    if owner == item.value.sku:
        raise AlreadyExists("barcode", f"{code} of item {owner}", field)
    if owner is not None:
        raise Conflict(
            f"Barcode {code} is already used by item {owner}; a barcode belongs to one item. "
            f"Take it off {owner} first, or check the number.",
            field,
        )
    if uow.catalog.sku_taken(code):
        raise InvalidInput(
            f"Barcode {code} is the SKU of another item; a scan of it would be ambiguous.", field
        )
    uow.catalog.add_barcode(item.id, code)
    uow.record(
        Changed(subject=f"item:{item.value.sku}", verb="barcode_add", values={"barcode": code})
    )


@retrying
def add_barcode(uow: UnitOfWork, sku: str, code: str) -> list[str]:
    """Give an item one more barcode; returns all of its barcodes."""
    checked = barcode(code)
    with uow:
        item = uow.catalog.item(sku)
        _add_barcode(uow, item, checked, "barcode")
        found = uow.catalog.barcodes([item.value.sku]).get(item.value.sku, [])
        uow.commit()
    return found


@retrying
def remove_barcode(uow: UnitOfWork, sku: str, code: str) -> list[str]:
    """Take a barcode off an item; returns the barcodes it keeps."""
    with uow:
        item = uow.catalog.item(sku)
        if not uow.catalog.remove_barcode(item.id, scanned(code)):
            raise NotFound(f"barcode of item {item.value.sku}:", code, "barcode")
        uow.record(
            Changed(
                subject=f"item:{item.value.sku}",
                verb="barcode_remove",
                values={"barcode": scanned(code)},
            )
        )
        found = uow.catalog.barcodes([item.value.sku]).get(item.value.sku, [])
        uow.commit()
    return found


def barcodes_of(uow: UnitOfWork, skus: Sequence[str]) -> dict[str, list[str]]:
    """The barcodes of the items with these SKUs, by SKU (none: an empty list)."""
    with uow:
        found = uow.catalog.barcodes(skus)
    return {sku: found.get(sku, []) for sku in skus}


def sku_of(uow: UnitOfWork, ref: str, field: str = "sku") -> str:
    """The SKU of the item `ref` names: its SKU or one of its barcodes."""
    with uow:
        return uow.catalog.item(ref, field).value.sku


@retrying
def update_item(uow: UnitOfWork, sku: str, changes: dict[str, Any]) -> Item:
    """Change some fields of an item; the SKU itself never changes (moves refer to it)."""
    if "sku" in changes:
        raise InvalidInput("The SKU of an item cannot change; create a new item.", "sku")
    with uow:
        stored = uow.catalog.item(sku)
        current = stored.value
        if changes.get("serial_tracked") and "divisible" not in changes:
            changes = {**changes, "divisible": False}  # one serial per whole unit
        for field in ("lot_tracked", "serial_tracked", "unit", "costing"):
            changed = field in changes and changes[field] != getattr(current, field)
            if changed and uow.ledger.has_moves(stored.id):
                raise InvalidInput(
                    f"Item {sku} has stock moves already; its {field} cannot change now.", field
                )
        updated = replace(current, **changes)
        uow.catalog.update_item(updated)
        _changed(uow, f"item:{current.sku}", "item_update", current, updated)
        uow.commit()
    return updated


def get_item(uow: UnitOfWork, sku: str) -> Item:
    with uow:
        return uow.catalog.item(sku).value


def list_items(uow: UnitOfWork, limit: int = 50, offset: int = 0, **filters: Any) -> Page[Item]:
    limit, offset = page_bounds(limit, offset)
    with uow:
        return uow.catalog.items(limit, offset, **filters)


@retrying
def add_location(uow: UnitOfWork, location: Location) -> Location:
    if not location.is_physical:
        raise InvalidInput(
            "Only physical locations (warehouse, store, quarantine, work_in_progress) can be "
            "added; the virtual ones exist already.",
            "kind",
        )
    with uow:
        uow.catalog.add_location(location)
        values = created(facts(location))
        uow.record(
            Changed(subject=f"location:{location.code}", verb="location_create", values=values)
        )
        uow.commit()
    return location


@retrying
def update_location(uow: UnitOfWork, code: str, changes: dict[str, Any]) -> Location:
    for frozen in ("code", "kind"):
        if frozen in changes:
            raise InvalidInput(f"The {frozen} of a location cannot change.", frozen)
    with uow:
        current = uow.catalog.location(code).value
        if not current.is_physical:
            raise InvalidInput(f"{code} is a virtual location; it cannot be changed.", "code")
        updated = replace(current, **changes)
        if updated.allow_negative != current.allow_negative:
            uow.ledger.set_may_go_negative(uow.catalog.location(code).id, updated.may_go_negative)
        uow.catalog.update_location(updated)
        _changed(uow, f"location:{code}", "location_update", current, updated)
        uow.commit()
    return updated


def get_location(uow: UnitOfWork, code: str) -> Location:
    """A location; a site not granted to the principal answers as a missing one."""
    with uow:
        found = uow.catalog.location(code).value
    if found.is_physical:
        uow.visibility.require_location(code, "code")
    return found


def list_locations(
    uow: UnitOfWork, limit: int = 50, offset: int = 0, **filters: Any
) -> Page[Location]:
    limit, offset = page_bounds(limit, offset)
    with uow:
        return uow.catalog.locations(limit, offset, **filters)


@retrying
def add_supplier(uow: UnitOfWork, supplier: Supplier) -> Supplier:
    with uow:
        uow.catalog.add_supplier(supplier)
        values = created(facts(supplier))
        uow.record(
            Changed(subject=f"supplier:{supplier.code}", verb="supplier_create", values=values)
        )
        uow.commit()
    return supplier


@retrying
def update_supplier(uow: UnitOfWork, code: str, changes: dict[str, Any]) -> Supplier:
    if "code" in changes:
        raise InvalidInput("The code of a supplier cannot change.", "code")
    with uow:
        current = uow.catalog.supplier(code).value
        updated = replace(current, **changes)
        uow.catalog.update_supplier(updated)
        _changed(uow, f"supplier:{code}", "supplier_update", current, updated)
        uow.commit()
    return updated


def get_supplier(uow: UnitOfWork, code: str) -> Supplier:
    with uow:
        return uow.catalog.supplier(code).value


def list_suppliers(
    uow: UnitOfWork, limit: int = 50, offset: int = 0, **filters: Any
) -> Page[Supplier]:
    limit, offset = page_bounds(limit, offset)
    with uow:
        return uow.catalog.suppliers(limit, offset, **filters)


def _in_stock_unit(
    uow: UnitOfWork, sku: str, terms: dict[str, Any], unit: str | None
) -> dict[str, Any]:
    """Terms (or changes to them) given in `unit` (a purchase unit: a sack), in the item's
    stock unit (`domain.units.terms_in_stock_unit`)."""
    if unit is None:
        return terms
    item = uow.catalog.item(sku)
    return units.terms_in_stock_unit(item.value, terms, unit, uow.catalog.unit_factors(item.id))


@retrying
def add_supplier_item(
    uow: UnitOfWork, terms: SupplierItem, *, unit: str | None = None
) -> SupplierItem:
    """Record the terms one supplier sells one item on; `unit`: the unit its price, MOQ, pack
    size and price breaks are given in (stored in the stock unit)."""
    with uow:
        if unit is not None:
            given = {f.name: getattr(terms, f.name) for f in fields(terms)}
            terms = SupplierItem(**_in_stock_unit(uow, terms.sku, given, unit))
        uow.catalog.put_supplier_item(terms, create=True)
        subject = f"supplier_item:{terms.supplier}/{terms.sku}"
        uow.record(Changed(subject=subject, verb="terms_create", values=created(facts(terms))))
        uow.commit()
    return terms


@retrying
def update_supplier_item(
    uow: UnitOfWork, supplier: str, sku: str, changes: dict[str, Any], *, unit: str | None = None
) -> SupplierItem:
    """Change some of a supplier's terms; `unit`: the unit the changed price, MOQ, pack size
    and price breaks are given in."""
    with uow:
        current = uow.catalog.supplier_item(supplier, sku)
        changes = _in_stock_unit(uow, sku, changes, unit)
        updated = replace(current, **changes)
        uow.catalog.put_supplier_item(updated, create=False)
        _changed(uow, f"supplier_item:{supplier}/{sku}", "terms_update", current, updated)
        uow.commit()
    return updated


def list_supplier_items(
    uow: UnitOfWork, limit: int = 50, offset: int = 0, **filters: Any
) -> Page[SupplierItem]:
    limit, offset = page_bounds(limit, offset)
    with uow:
        if filters.get("supplier") is not None:
            uow.catalog.supplier(filters["supplier"])
        if filters.get("sku") is not None:
            filters["sku"] = uow.catalog.item(filters["sku"]).value.sku
        return uow.catalog.supplier_items(limit, offset, **filters)
