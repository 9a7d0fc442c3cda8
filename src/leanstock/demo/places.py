"""Where the demo business's stock is, and the kinds of moves its history is made of."""

from __future__ import annotations

import numpy as np

from leanstock.domain.catalog import Location, LocationKind
from leanstock.domain.ledger import MoveKind

WAREHOUSE, STORE_NORTH, STORE_SOUTH = "WH", "STORE-N", "STORE-S"
LOCATIONS = (
    Location(WAREHOUSE, "Central warehouse, kitchen and online shop", LocationKind.WAREHOUSE),
    Location(STORE_NORTH, "North Street store", LocationKind.STORE),
    Location(STORE_SOUTH, "South Park store", LocationKind.STORE),
)
PLACES = np.array(
    [
        WAREHOUSE,
        STORE_NORTH,
        STORE_SOUTH,
        "supplier",
        "customer",
        "production",
        "scrap",
        "adjustment",
    ]
)
WH, NORTH, SOUTH, SUPPLIER, CUSTOMER, PRODUCTION, SCRAP, ADJUSTMENT = range(8)
STORES = (NORTH, SOUTH)

MILLI = 1000
"""The simulation counts in thousandths of a unit: exact grams and millilitres, whole eaches."""

NO_EXPIRY = 1 << 30

# The kinds of moves, the hour of the day they happen and the reference prefix they carry.
# Ingredients arrive before the kitchen bakes with them (one instant for the bake's use of
# its ingredients and its output, as one production order books them), and bakes are sent to
# the stores after.
KINDS = (
    MoveKind.ADJUSTMENT,
    MoveKind.RECEIPT,
    MoveKind.TRANSFER,
    MoveKind.PRODUCTION,
    MoveKind.SHIPMENT,
    MoveKind.CONSUMPTION,
    MoveKind.SCRAP,
    MoveKind.CONSUMPTION,
)
OPENING, RECEIPT, TRANSFER, BAKE, SHIPMENT, CONSUMPTION, EXPIRY, BAKE_USE = range(len(KINDS))
HOURS = (5, 6, 8, 7, 19, 19, 21, 7)
PREFIXES = ("OPENING", "PO", "TR", "BAKE", "SALES", "USE", "SCRAP", "BAKE")
