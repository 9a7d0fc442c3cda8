"""Orders that pull supply: sales, purchase, production and transfer orders, and their pegs.

Just in time means supply is pulled by actual customer orders (docs/architecture.md, "How a
sales order flows"). Each order is a small state machine in a module of its own; a method
that changes state refuses, with `InvalidTransition` and the reason, anything its current
state forbids, so nothing is changed.
"""

from leanstock.domain.orders.boms import BomLine, Requirement, explode
from leanstock.domain.orders.common import PREFIXES, number, order_id
from leanstock.domain.orders.pegging import (
    DemandKind,
    Peg,
    PegStatus,
    Supply,
    SupplyKind,
    missed_request,
    promise_date,
)
from leanstock.domain.orders.production import Component, ProductionOrder, ProductionStatus
from leanstock.domain.orders.purchasing import (
    CHANGEABLE,
    OVER_RECEIPT_TOLERANCE,
    RECEIVABLE,
    PurchaseLine,
    PurchaseOrder,
    PurchaseStatus,
    RejectTo,
    draft_quantity,
    order_quantity,
)
from leanstock.domain.orders.sales import Fulfilment, SalesLine, SalesOrder, SalesStatus
from leanstock.domain.orders.transfers import (
    TRANSFER_DAYS,
    UNSHIPPED,
    TransferOrder,
    TransferStatus,
)

__all__ = [
    "CHANGEABLE",
    "OVER_RECEIPT_TOLERANCE",
    "PREFIXES",
    "RECEIVABLE",
    "TRANSFER_DAYS",
    "UNSHIPPED",
    "BomLine",
    "Component",
    "DemandKind",
    "Fulfilment",
    "Peg",
    "PegStatus",
    "ProductionOrder",
    "ProductionStatus",
    "PurchaseLine",
    "PurchaseOrder",
    "PurchaseStatus",
    "RejectTo",
    "Requirement",
    "SalesLine",
    "SalesOrder",
    "SalesStatus",
    "Supply",
    "SupplyKind",
    "TransferOrder",
    "TransferStatus",
    "draft_quantity",
    "explode",
    "missed_request",
    "number",
    "order_id",
    "order_quantity",
    "promise_date",
]
