"""The JSON Schema of every published event's payload (the `data` of a webhook delivery),
one per event type, versioned.

A payload is the event's own fields rendered as JSON: exact decimals and dates as strings
(`"12.5"`, `"2026-12-01"`), tuples as arrays, `[before, after]` pairs where a value changed.
A change that a consumer could trip over (a field removed or retyped, a new required field)
raises the type's version; a new optional field does not. docs/events.md lists them all, and
`GET /api/v1/events/schemas` serves them. The test suite validates every event its scenarios
emit against its schema (tests/integration/test_event_schemas.py).
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

DRAFT = "https://json-schema.org/draft/2020-12/schema"

STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
# An exact decimal as its string ("12.5", "-3", "1E+1"): quantities and money never go
# through a float.
DEC: Schema = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?(E[+-]?[0-9]+)?$"}
DATE: Schema = {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
STRINGS: Schema = {"type": "array", "items": STR}


def null(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def pair(schema: Schema) -> Schema:
    """`[before, after]` of a value that changed (either side null: absent then or now)."""
    return {"type": "array", "prefixItems": [null(schema), null(schema)], "items": False}


def row(*items: Schema) -> Schema:
    """A fixed-length array: `[sku, source, target, quantity, lot]`."""
    return {"type": "array", "prefixItems": list(items), "items": False, "minItems": len(items)}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": sorted(required),
        "additionalProperties": False,
    }


def changes(fields: dict[str, Schema]) -> Schema:
    """The `[before, after]` pairs of what changed, for any of `fields`."""
    return obj({}, {name: pair(schema) for name, schema in fields.items()})


def mapping(values: Schema) -> Schema:
    return {"type": "object", "additionalProperties": values}


ITEM = {
    "sku": STR,
    "name": STR,
    "unit": STR,
    "kind": {"enum": ["bought", "made"]},
    "category": STR,
    "unit_cost": DEC,
    "lot_tracked": BOOL,
    "shelf_life_days": INT,
    "policy": STR,
    "active": BOOL,
    "costing": {"enum": ["fifo", "moving_average"]},
    "divisible": BOOL,
}
LOCATION = {"code": STR, "name": STR, "kind": STR, "allow_negative": BOOL}
SUPPLIER = {"code": STR, "name": STR, "email": STR, "active": BOOL}
TERMS = {
    "supplier": STR,
    "sku": STR,
    "price": DEC,
    "lead_time_days": INT,
    "moq": DEC,
    "pack_size": DEC,
    "priority": INT,
    "supplier_sku": STR,
    "price_breaks": {
        "type": "array",
        "items": obj({"min_quantity": DEC, "price": DEC}),
    },
}
CUSTOMER = {
    "code": STR,
    "name": STR,
    "email": STR,
    "phone": STR,
    "billing_address": STR,
    "shipping_address": STR,
    "priority": {"type": "integer", "minimum": 1, "maximum": 9},
    "active": BOOL,
}
# A stock operation: its moves ([sku, from, to, quantity, lot]) and reference.
MOVES = {"type": "array", "minItems": 0, "items": row(STR, STR, STR, DEC, null(STR))}


def operation(**extra: Schema) -> Schema:
    return obj({"moves": MOVES}, {"reference": STR, "note": STR, **extra})


RESERVATION = obj(
    {"sku": STR, "location": STR, "reference": STR},
    {"open_quantity": pair(DEC), "status": pair(STR), "operation": INT},
)
PLAN_LINE = obj(
    {"line": INT, "sku": STR, "location": STR}, {"quantity": pair(DEC), "status": pair(STR)}
)
UNPEGGED = STRINGS

# (version, description, payload schema) by event type.
EVENTS: dict[str, tuple[int, str, Schema]] = {
    # Sales orders
    "sales_order.placed": (
        1,
        "A sales order was recorded as a draft.",
        obj({"customer": STR, "customer_code": null(STR)}),
    ),
    "sales_order.confirmed": (
        1,
        "A sales order was confirmed: stock reserved, supply pulled for the rest.",
        obj({"customer": STR, "customer_code": null(STR)}),
    ),
    "sales_order.shipped": (
        1,
        "Lines shipped (quantity by line number); `status` is the order's after it.",
        obj({"lines": mapping(DEC), "status": STR}, {"drop_ship": BOOL}),
    ),
    "sales_order.cancelled": (
        1,
        "A sales order was cancelled; `lines` are the line numbers that were still open.",
        obj({"reason": null(STR), "lines": {"type": "array", "items": INT}}),
    ),
    "sales_order.requested_date_missed": (
        1,
        "A line's promise falls after the date the customer asked for.",
        obj({"line": STR, "requested": DATE, "promised": null(DATE), "reason": STR}),
    ),
    "sales_line.changed": (
        1,
        "A line's quantity changed: [before, after].",
        obj({"line": INT, "quantity": pair(DEC)}),
    ),
    "sales_line.cancelled": (
        1,
        "A line was cancelled; `dropped` is what was still open.",
        obj({"line": INT, "dropped": DEC}),
    ),
    "sales_line.returned": (
        1,
        "The customer sent back goods of a shipped line, to stock, quarantine or scrap.",
        obj({"line": INT, "quantity": DEC, "to": STR}),
    ),
    "sales_line.backorder_filled": (
        1,
        "Arriving stock was reserved for a backordered line.",
        obj({"line": INT, "quantity": DEC, "still_waiting": DEC, "source": STR}),
    ),
    "promise_date.changed": (
        1,
        "The supply a sales line waits for moved its expected date: [before, after].",
        obj({"line": STR, "supply": STR, "expected": pair(DATE)}),
    ),
    # Purchase orders
    "purchase_order.released": (
        1,
        "A purchase order was sent to its supplier.",
        obj({"supplier": STR, "lines": INT}),
    ),
    "purchase_order.acknowledged": (
        1,
        "The supplier confirmed quantities and dates: per line number, [before, after].",
        mapping(mapping(pair({}))),
    ),
    "purchase_order.shipped": (
        1,
        "The supplier announced a shipment (a ship notice).",
        obj({"expected_date": null(DATE)}),
    ),
    "purchase_order.closed": (
        1,
        "A received order was closed short; `short` by line number.",
        obj({"short": mapping(DEC), "unpegged": UNPEGGED}),
    ),
    "purchase_order.cancelled": (
        1,
        "A purchase order was cancelled (`unpegged`: the demands it no longer serves).",
        obj({"reason": null(STR)}, {"unpegged": UNPEGGED}),
    ),
    "purchase_order.change_requested": (
        1,
        "A released line should shrink: the demand that pulled it was withdrawn.",
        obj({"line": INT, "sku": STR, "reduce_by": DEC}),
    ),
    "purchase_order.goods_returned": (
        1,
        "Quarantined goods went back to the supplier against the order.",
        obj({"sku": STR, "quantity": DEC, "lot": null(STR), "note": null(STR)}),
    ),
    "receipt.posted": (
        1,
        "A delivery against a purchase order: per line, accepted and rejected.",
        obj(
            {
                "lines": {
                    "type": "array",
                    "items": obj({"line": INT, "accepted": DEC, "rejected": DEC, "on": DATE}),
                }
            }
        ),
    ),
    # Production and transfer orders, bills of materials
    "bom.replaced": (
        1,
        "An item's bill of materials was set: [component, quantity, scrap] per line.",
        obj({"lines": {"type": "array", "items": row(STR, DEC, DEC)}}),
    ),
    "production_order.created": (
        1,
        "A production order was drafted.",
        obj({"sku": STR, "quantity": DEC}),
    ),
    "production_order.released": (1, "A production order was released.", obj({})),
    "production_order.started": (1, "Production started.", obj({})),
    "production_order.produced": (
        1,
        "Output was reported: this `quantity`, `produced` in all so far.",
        obj({"quantity": DEC, "produced": DEC}),
    ),
    "production_order.closed": (
        1,
        "A production order was closed.",
        obj({"produced": DEC, "unpegged": UNPEGGED}),
    ),
    "production_order.cancelled": (
        1,
        "A production order was cancelled.",
        obj({"reason": null(STR)}, {"unpegged": UNPEGGED}),
    ),
    "production_order.change_requested": (
        1,
        "A released production order should make less.",
        obj({"reduce_by": DEC}),
    ),
    "transfer_order.created": (
        1,
        "A transfer was drafted.",
        obj({"sku": STR, "source": STR, "target": STR, "quantity": DEC}),
    ),
    "transfer_order.released": (1, "A transfer was released.", obj({})),
    "transfer_order.shipped": (1, "A transfer left its source.", obj({"quantity": DEC})),
    "transfer_order.received": (
        1,
        "A transfer arrived; `lost` went missing on the way.",
        obj({"received": DEC, "lost": DEC}),
    ),
    "transfer_order.cancelled": (
        1,
        "A transfer was cancelled.",
        obj({}, {"reason": null(STR), "unpegged": UNPEGGED}),
    ),
    # Catalog and customers: what changed, [before, after]
    "item.created": (1, "An item was added.", changes(ITEM)),
    "item.updated": (1, "Fields of an item changed.", changes(ITEM)),
    "item.barcode_added": (1, "An item got a barcode (GTIN).", obj({"barcode": STR})),
    "item.barcode_removed": (1, "A barcode was taken off an item.", obj({"barcode": STR})),
    "item.unit_defined": (
        1,
        "A purchase or sales unit of an item: 1 unit = factor stock units.",
        obj({"unit": STR, "factor": DEC}),
    ),
    "location.created": (1, "A location was added.", changes(LOCATION)),
    "location.updated": (1, "Fields of a location changed.", changes(LOCATION)),
    "supplier.created": (1, "A supplier was added.", changes(SUPPLIER)),
    "supplier.updated": (1, "Fields of a supplier changed.", changes(SUPPLIER)),
    "supplier_item.created": (1, "A supplier's terms for an item were added.", changes(TERMS)),
    "supplier_item.updated": (1, "A supplier's terms for an item changed.", changes(TERMS)),
    "customer.created": (1, "A customer was added.", changes(CUSTOMER)),
    "customer.updated": (1, "Fields of a customer changed.", changes(CUSTOMER)),
    "customer.deleted": (1, "A customer with no orders was removed.", changes(CUSTOMER)),
    # Stock operations: their moves
    "stock.received": (1, "Stock arrived (not against a PO).", operation(supplier=STR)),
    "stock.shipped": (
        1,
        "Stock left to a customer (a counter sale, not a sales order).",
        operation(customer=STR),
    ),
    "stock.transferred": (1, "Stock moved between two locations at once.", operation()),
    "stock.counted": (
        1,
        "A count posted its difference; `on_hand` [before, counted].",
        operation(lot=STR, on_hand=pair(DEC)),
    ),
    "stock.scrapped": (1, "Stock was scrapped, with a reason.", operation(reason=STR)),
    "stock.expired": (
        1,
        "The expiry sweep scrapped expired lots.",
        operation(reason=STR, operation_id=INT),
    ),
    "stock.quarantine_released": (1, "Quarantined stock was released to stock.", operation()),
    "stock.returned_to_supplier": (
        1,
        "Quarantined stock went back to its supplier.",
        operation(supplier=STR),
    ),
    # Reservations
    "reservation.created": (1, "Stock was promised to a reference.", RESERVATION),
    "reservation.released": (1, "A reservation was let go.", RESERVATION),
    "reservation.consumed": (1, "Reserved stock was taken (shipped).", RESERVATION),
    # Plans
    "plan.created": (
        1,
        "A plan was run: its parameters and the summary of the orders it suggests.",
        {
            "type": "object",
            "properties": {"forecast_run": null(INT), "summary": mapping({})},
            "required": ["forecast_run", "summary"],
        },
    ),
    "plan.line_changed": (1, "A reviewer changed a plan line.", PLAN_LINE),
    "plan.line_dropped": (1, "A reviewer dropped a plan line.", PLAN_LINE),
    "plan.approved": (1, "A plan was approved.", obj({"status": pair(STR)})),
    "plan.released": (
        1,
        "A plan's orders were created; `failed` lines did not make it.",
        obj({"status": pair(STR), "orders": STRINGS, "failed": INT}),
    ),
}


def schema(name: str) -> Schema:
    """The JSON Schema of one event type's payload; KeyError when there is none."""
    version, description, payload = EVENTS[name]
    return {
        "$schema": DRAFT,
        "$id": f"urn:leanstock:event:{name}:v{version}",
        "title": name,
        "description": description,
        "x-version": version,
        **payload,
    }


def version(name: str) -> int | None:
    found = EVENTS.get(name)
    return None if found is None else found[0]


def schemas() -> dict[str, Schema]:
    return {name: schema(name) for name in sorted(EVENTS)}
