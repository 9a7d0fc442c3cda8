"""Every route of the OpenAPI document, with every kind of principal, on own and foreign
objects: the exact status, and nothing of a foreign object in any answer.

The table below is written out by hand from the roles table of docs/security.md, on purpose
independent of the code's own table (domain/access.py). A route missing from it fails
`test_every_route_is_in_the_table`: a new route must say who may call it.

Requests a principal is let through with are made so that they change nothing shared: they
act on orders already cancelled (409), carry a body the schema refuses (422), or create
something of the principal's own. So the expected status of each does not depend on which
ran before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from authz_world import (
    API,
    CANARIES,
    INVALID,
    PASSWORD,
    PRINCIPALS,
    ROLES,
    World,
    build,
    foreign_marks,
)
from sqlalchemy import Engine

from conftest import DATABASES, Templates
from leanstock.adapters.db.engine import make_engine
from leanstock.entrypoints.api.deps import permissions_of
from leanstock.entrypoints.api.openapi import api_routes
from leanstock.entrypoints.api.security import PUBLIC_PATHS

pytestmark = pytest.mark.slow

ALL = frozenset(ROLES)
STAFF = ALL - {"supplier"}  # who reads the business
MANAGE = frozenset({"owner", "manager"})
BUY = MANAGE | {"buyer"}
FLOOR = MANAGE | {"warehouse"}
OWNER = frozenset({"owner"})
# The EDI log and invoice variances: not the warehouse (its users may be limited to locations).
EDI_READ = BUY | {"viewer", "supplier"}


@dataclass(frozen=True)
class Route:
    """How one route answers: `allowed` roles get `ok` on their own objects (or `special`
    per role); the others 403. `foreign` changes the request to name an object foreign to
    the bound principals, who get `foreign_status` (everyone else as before)."""

    method: str
    path: str
    allowed: frozenset[str]
    ok: int
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    special: dict[str, int] = field(default_factory=dict)
    foreign: dict[str, Any] | None = None
    foreign_status: dict[str, int] = field(default_factory=dict)
    public: bool = False


@dataclass(frozen=True)
class RawBody:
    """A request body sent as it is (an EDI interchange), not as JSON."""

    text: str


def r(method: str, path: str, allowed: frozenset[str], ok: int, **kw: Any) -> Route:
    return Route(method, path, allowed, ok, **kw)


TABLE = [
    # Public
    r("POST", "/auth/login", ALL, 422, body={}, public=True),
    r("POST", "/auth/logout", ALL, 204, public=True),
    r("GET", "/health", ALL, 200, public=True),
    # The caller
    r("GET", "/me", ALL, 200),
    r("POST", "/me/password", ALL, 422, body={}),
    # Users
    r("GET", "/users", OWNER, 200),
    r(
        "POST",
        "/users",
        OWNER,
        201,
        body={"email": "new-{tag}@example.com", "password": PASSWORD, "role": "viewer"},
    ),
    r("GET", "/users/{user_id}", OWNER, 200, params={"user_id": "{dummy_user}"}),
    r(
        "PATCH",
        "/users/{user_id}",
        OWNER,
        200,
        params={"user_id": "{dummy_user}"},
        body={"display_name": "Dummy"},
    ),
    r(
        "POST",
        "/users/{user_id}/password",
        OWNER,
        204,
        params={"user_id": "{dummy_user}"},
        body={"password": PASSWORD},
    ),
    # Tokens: every user manages their own; a token cannot make tokens.
    r("GET", "/tokens", ALL, 200),
    r("POST", "/tokens", ALL, 403, body={"name": "more"}),
    r(
        "GET",
        "/tokens/{token_id}",
        ALL,
        200,
        params={"token_id": "{own_token}"},
        foreign={"params": {"token_id": "{foreign_token}"}},
        foreign_status={**dict.fromkeys(ALL - OWNER, 404), "read_only": 404},
    ),
    r(
        "POST",
        "/tokens/{token_id}/revoke",
        ALL,
        200,
        params={"token_id": "{spare_token}"},
        foreign={"params": {"token_id": "{foreign_token}"}},
        foreign_status=dict.fromkeys(ALL - OWNER, 404),
    ),
    r("GET", "/audit", MANAGE, 200),
    # Catalog
    r("POST", "/items", MANAGE, 201, body={"sku": "I-{tag}", "name": "New"}),
    r("GET", "/items", STAFF, 200),
    r("GET", "/items/{sku}", STAFF, 200, params={"sku": "CUP"}),
    r("PATCH", "/items/{sku}", MANAGE, 200, params={"sku": "CUP"}, body={"name": "Cup"}),
    r("GET", "/items/{sku}/barcodes", STAFF, 200, params={"sku": "CUP"}),
    r(
        "POST",
        "/items/{sku}/barcodes",
        MANAGE,
        422,
        params={"sku": "CUP"},
        body={"barcode": "4006381333932"},  # a wrong check digit
    ),
    r(
        "DELETE",
        "/items/{sku}/barcodes/{barcode}",
        MANAGE,
        404,
        params={"sku": "CUP", "barcode": "96385074"},  # not one of its barcodes
    ),
    # Customers
    r("POST", "/customers", MANAGE, 201, body={"code": "C-{tag}", "name": "New"}),
    r("GET", "/customers", STAFF, 200),
    r("GET", "/customers/{code}", STAFF, 200, params={"code": "BISTRO"}),
    r("PATCH", "/customers/{code}", MANAGE, 200, params={"code": "BISTRO"}, body={"name": "B"}),
    r("DELETE", "/customers/{code}", MANAGE, 404, params={"code": "NOBODY"}),
    r("POST", "/locations", MANAGE, 201, body={"code": "L-{tag}", "name": "New"}),
    r("GET", "/locations", STAFF, 200),
    r(
        "GET",
        "/locations/{code}",
        STAFF,
        200,
        params={"code": "WH"},
        foreign={"params": {"code": "STORE"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "PATCH",
        "/locations/{code}",
        MANAGE,
        200,
        params={"code": "WH"},
        body={"name": "Warehouse"},
    ),
    r("POST", "/suppliers", BUY, 201, body={"code": "S-{tag}", "name": "New"}),
    r("GET", "/suppliers", STAFF, 200),
    r("GET", "/suppliers/{code}", STAFF, 200, params={"code": "ACME"}),
    r("PATCH", "/suppliers/{code}", BUY, 200, params={"code": "ACME"}, body={"name": "Acme Cups"}),
    r(
        "POST",
        "/suppliers/{code}/items",
        BUY,
        201,
        params={"code": "P-{tag}"},
        body={"sku": "CUP", "price": "1", "lead_time_days": 2},
    ),
    r("GET", "/suppliers/{code}/items", STAFF, 200, params={"code": "ACME"}),
    r(
        "PATCH",
        "/suppliers/{code}/items/{sku}",
        BUY,
        200,
        params={"code": "ACME", "sku": "CUP"},
        body={"price": "1.5"},
    ),
    r("GET", "/items/{sku}/suppliers", STAFF, 200, params={"sku": "CUP"}),
    r(
        "GET",
        "/suppliers/{code}/scorecard",
        STAFF | {"supplier"},
        200,
        params={"code": "ACME"},
        foreign={"params": {"code": "RIVAL"}},
        foreign_status={"supplier": 404},
    ),
    r("GET", "/supplier-scorecards", STAFF, 200),
    # Stock: the warehouse user acts at WH and BACK only; STORE is "no such location".
    r(
        "POST",
        "/stock/receipts",
        FLOOR,
        201,
        body={"sku": "CUP", "location": "WH", "quantity": 1},
        foreign={"body": {"sku": "CUP", "location": "STORE", "quantity": 1}},
        foreign_status={"warehouse": 422},
    ),
    r(
        "POST",
        "/stock/shipments",
        FLOOR,
        201,
        body={"sku": "CUP", "location": "WH", "quantity": 1},
        foreign={"body": {"sku": "CUP", "location": "STORE", "quantity": 1}},
        foreign_status={"warehouse": 422},
    ),
    r(
        "POST",
        "/stock/transfers",
        FLOOR,
        201,
        body={"sku": "CUP", "source": "WH", "target": "BACK", "quantity": 1},
        foreign={"body": {"sku": "CUP", "source": "WH", "target": "STORE", "quantity": 1}},
        foreign_status={"warehouse": 422},
    ),
    r(
        "POST",
        "/stock/counts",
        FLOOR,
        201,
        body={"sku": "FLOUR", "location": "WH", "counted": 1000},
        foreign={"body": {"sku": "FLOUR", "location": "STORE", "counted": 1000}},
        foreign_status={"warehouse": 422},
    ),
    r(
        "POST",
        "/stock/scraps",
        FLOOR,
        201,
        body={"sku": "CUP", "location": "WH", "quantity": 1, "reason": "damage"},
        foreign={"body": {"sku": "CUP", "location": "STORE", "quantity": 1, "reason": "damage"}},
        foreign_status={"warehouse": 422},
    ),
    # Stocktakes: the stock count's rules. Each principal opens its own count at WH, of a
    # category of its own (so no two clash); the rest act on a cancelled one (409).
    r(
        "POST",
        "/stocktakes",
        FLOOR,
        201,
        body={"location": "WH", "category": "{tag}"},
        foreign={"body": {"location": "STORE", "category": "{tag}"}},
        foreign_status={"warehouse": 422},
    ),
    r(
        "GET",
        "/stocktakes",
        STAFF,
        200,
        foreign={"query": {"location": "STORE"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "GET",
        "/stocktakes/{number}",
        STAFF,
        200,
        params={"number": "{st_own}"},
        foreign={"params": {"number": "{st_foreign}"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "PUT",
        "/stocktakes/{number}/lines",
        FLOOR,
        409,
        params={"number": "{st_own}"},
        body={"lines": [{"sku": "CUP", "counted": 1}]},
        foreign={"params": {"number": "{st_foreign}"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "POST",
        "/stocktakes/{number}/post",
        FLOOR,
        409,
        params={"number": "{st_own}"},
        foreign={"params": {"number": "{st_foreign}"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "POST",
        "/stocktakes/{number}/cancel",
        FLOOR,
        409,
        params={"number": "{st_own}"},
        foreign={"params": {"number": "{st_foreign}"}},
        foreign_status={"warehouse": 404},
    ),
    # A batch answers 200 with a result per document; a document at a location not granted
    # is refused in its result (tests/e2e/test_api_stock_batch.py).
    r(
        "POST",
        "/stock/operations:batch",
        FLOOR,
        200,
        body={
            "documents": [
                {"kind": "scrap", "sku": "CUP", "location": "WH", "quantity": 1, "reason": "damage"}
            ]
        },
    ),
    # Quarantine and expiry: a body the schema refuses, so nothing moves.
    r("POST", "/stock/quarantine/releases", FLOOR, 422, body={}),
    r("POST", "/stock/quarantine/returns", FLOOR, 422, body={}),
    r("POST", "/stock/quarantine/scraps", FLOOR, 422, body={}),
    r("POST", "/stock/expiry", FLOOR, 422, body={"today": "not a date"}),
    r("GET", "/lots/{sku}/{lot}/trace", STAFF, 404, params={"sku": "CUP", "lot": "NO-SUCH"}),
    r(
        "POST",
        "/reservations",
        MANAGE,
        201,
        body={"sku": "CUP", "location": "WH", "quantity": 1, "reference": "R-{tag}"},
    ),
    r(
        "GET",
        "/reservations",
        STAFF,
        200,
        foreign={"query": {"location": "STORE"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "GET",
        "/reservations/{reservation_id}",
        STAFF,
        200,
        params={"reservation_id": "{res_own}"},
        foreign={"params": {"reservation_id": "{res_foreign}"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "POST",
        "/reservations/{reservation_id}/release",
        MANAGE,
        409,
        params={"reservation_id": "{res_own}"},
        body={},
    ),
    r(
        "POST",
        "/reservations/{reservation_id}/consume",
        FLOOR,
        409,
        params={"reservation_id": "{res_own}"},
        body={},
        foreign={"params": {"reservation_id": "{res_foreign}"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "GET",
        "/stock",
        STAFF,
        200,
        foreign={"query": {"location": "STORE"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "GET",
        "/items/{sku}/lots",
        STAFF,
        200,
        params={"sku": "CUP"},
        foreign={"query": {"location": "STORE"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "GET",
        "/items/{sku}/moves",
        STAFF,
        200,
        params={"sku": "CUP"},
        foreign={"query": {"location": "STORE"}},
        foreign_status={"warehouse": 404},
    ),
    # Serials: read like stock. CUP is not serial-tracked (422); a location not granted is
    # not found before that.
    r(
        "GET",
        "/items/{sku}/serials",
        STAFF,
        422,
        params={"sku": "CUP"},
        foreign={"query": {"location": "STORE"}},
        foreign_status={"warehouse": 404},
    ),
    r("GET", "/items/{sku}/serials/{serial}", STAFF, 422, params={"sku": "CUP", "serial": "S1"}),
    # Valuation: money tied up is read like stock; the company's costing method is the owner's.
    r(
        "GET",
        "/stock/value",
        STAFF,
        200,
        query={"location": "WH"},
        foreign={"query": {"location": "STORE"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "GET",
        "/stock/cost-flows",
        STAFF,
        200,
        query={"location": "WH"},
        foreign={"query": {"location": "STORE"}},
        foreign_status={"warehouse": 404},
    ),
    r("GET", "/settings/costing", STAFF, 200),
    r("PUT", "/settings/costing", OWNER, 200, body={"method": "fifo"}),
    r(
        "GET",
        "/moves",
        STAFF,
        200,
        query={"backdated": "true", "location": "WH"},
        foreign={"query": {"backdated": "true", "location": "STORE"}},
        foreign_status={"warehouse": 404},
    ),
    r("GET", "/settings/closed-period", STAFF, 200),
    # A day not yet over cannot be closed: refused after the permission check, nothing changed.
    r("PUT", "/settings/closed-period", MANAGE, 422, body={"through": "2999-01-01"}),
    r("GET", "/revaluation-jobs", STAFF, 200),
    # No such job: a 404 for whoever may read jobs, after the permission check.
    r("GET", "/revaluation-jobs/{job_id}", STAFF, 404, params={"job_id": "999999"}),
    r("GET", "/settings/revaluation", STAFF, 200),
    r("PUT", "/settings/revaluation", OWNER, 200, body={"inline_moves": 1000}),
    r("GET", "/items/{sku}/units", STAFF, 200, params={"sku": "CUP"}),
    r(
        "PUT",
        "/items/{sku}/units/{unit}",
        MANAGE,
        422,
        params={"sku": "CUP", "unit": "box"},
        body={"factor": 0},
    ),
    # Sales orders
    r(
        "POST",
        "/sales-orders",
        MANAGE,
        201,
        body={"customer": "C-{tag}", "location": "WH", "lines": [{"sku": "CUP", "quantity": 1}]},
    ),
    r("GET", "/sales-orders", STAFF, 200),
    *(
        r(
            "GET",
            path,
            STAFF,
            200,
            params={"number": "{so_own}"},
            foreign={"params": {"number": "{so_foreign}"}},
            foreign_status={"warehouse": 404},
        )
        for path in ("/sales-orders/{number}", "/sales-orders/{number}/history")
    ),
    r("POST", "/sales-orders/{number}/confirm", MANAGE, 409, params={"number": "{so_own}"}),
    r(
        "POST",
        "/sales-orders/{number}/shipments",
        FLOOR,
        409,
        params={"number": "{so_own}"},
        body={"lines": [{"line": 1, "quantity": 1}]},
        foreign={"params": {"number": "{so_foreign}"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "POST",
        "/sales-orders/{number}/returns",
        FLOOR,
        422,  # nothing of a cancelled order shipped, so nothing can come back
        params={"number": "{so_own}"},
        body={"line": 1, "quantity": 1, "to": "stock"},
        foreign={"params": {"number": "{so_foreign}"}},
        foreign_status={"warehouse": 404},
    ),
    r("POST", "/sales-orders/{number}/cancel", MANAGE, 409, params={"number": "{so_own}"}),
    r(
        "POST",
        "/sales-orders/{number}/lines/{line}/change",
        MANAGE,
        409,
        params={"number": "{so_own}", "line": "1"},
        body={"quantity": 2},
    ),
    r(
        "POST",
        "/sales-orders/{number}/lines/{line}/cancel",
        MANAGE,
        409,
        params={"number": "{so_own}", "line": "1"},
    ),
    # Purchase orders: the supplier user's are ACME's; RIVAL's answer as missing ones.
    r(
        "POST",
        "/purchase-orders",
        BUY,
        201,
        body={"supplier": "ACME", "lines": [{"sku": "CUP", "quantity": 5, "location": "WH"}]},
    ),
    r(
        "GET",
        "/purchase-orders",
        ALL,
        200,
        foreign={"query": {"supplier": "RIVAL"}},
    ),
    r(
        "GET",
        "/purchase-orders/{number}",
        ALL,
        200,
        params={"number": "{po_own}"},
        foreign={"params": {"number": "{po_foreign}"}},
        foreign_status={"supplier": 404, "warehouse": 404},
    ),
    r("POST", "/purchase-orders/{number}/release", MANAGE, 409, params={"number": "{po_own}"}),
    r(
        "POST",
        "/purchase-orders/{number}/acknowledgement",
        BUY | {"supplier"},
        409,
        params={"number": "{po_own}"},
        body={"lines": [{"line": 1, "quantity": 5}]},
        foreign={"params": {"number": "{po_foreign}"}},
        foreign_status={"supplier": 404},
    ),
    r(
        "POST",
        "/purchase-orders/{number}/ship-notice",
        BUY | {"supplier"},
        409,
        params={"number": "{po_own}"},
        foreign={"params": {"number": "{po_foreign}"}},
        foreign_status={"supplier": 404},
    ),
    r(
        "POST",
        "/purchase-orders/{number}/receipts",
        FLOOR | {"supplier"},
        409,
        params={"number": "{po_own}"},
        body={"lines": [{"line": 1, "quantity": 1}]},
        special={"supplier": 403},  # not a drop-ship order: receiving it is the warehouse's
        foreign={"params": {"number": "{po_foreign}"}},
        foreign_status={"supplier": 404, "warehouse": 404},
    ),
    r("POST", "/purchase-orders/{number}/close", BUY, 409, params={"number": "{po_own}"}),
    r("POST", "/purchase-orders/{number}/cancel", BUY, 409, params={"number": "{po_own}"}),
    # The supplier portal: proposals, ship-notice receipts, drop-ship deliveries, invoices.
    r(
        "POST",
        "/purchase-orders/{number}/proposals",
        BUY | {"supplier"},
        409,  # a cancelled order takes no proposal
        params={"number": "{po_own}"},
        body={"lines": [{"line": 1, "quantity": 4}]},
        foreign={"params": {"number": "{po_foreign}"}},
        foreign_status={"supplier": 404},
    ),
    r("GET", "/purchase-proposals", ALL, 200),
    r(
        "POST",
        "/purchase-orders/{number}/proposals/{proposal_id}/accept",
        BUY,
        404,  # no such proposal on the order
        params={"number": "{po_own}", "proposal_id": "999"},
    ),
    r(
        "POST",
        "/purchase-orders/{number}/proposals/{proposal_id}/reject",
        BUY,
        404,
        params={"number": "{po_own}", "proposal_id": "999"},
        body={"reason": "No"},
    ),
    r(
        "POST",
        "/purchase-orders/{number}/ship-notices/{notice_id}/receipt",
        FLOOR,
        404,  # no such ship notice on the order
        params={"number": "{po_own}", "notice_id": "999"},
        foreign={"params": {"number": "{po_foreign}", "notice_id": "999"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "POST",
        "/purchase-orders/{number}/drop-ship-deliveries",
        MANAGE | {"supplier"},
        403,  # not a drop-ship order: the warehouse receives it
        params={"number": "{po_own}"},
        body={"lines": [{"line": 1, "quantity": 1}], "carrier": "UPS", "tracking": "1Z"},
        foreign={"params": {"number": "{po_foreign}"}},
        foreign_status={"supplier": 404},
    ),
    r(
        "POST",
        "/purchase-orders/{number}/invoices",
        BUY,
        409,  # a cancelled order is not invoiced
        params={"number": "{po_own}"},
        body={"invoice_number": "INV-1", "lines": [{"line": 1, "quantity": 1, "price": "1"}]},
    ),
    # Production
    r(
        "POST",
        "/boms",
        MANAGE,
        201,
        body={"sku": "CAKE", "lines": [{"sku": "FLOUR", "quantity": 1}]},
    ),
    r("GET", "/boms/{sku}", STAFF, 200, params={"sku": "CAKE"}),
    r("GET", "/boms/{sku}/explosion", STAFF, 200, params={"sku": "CAKE"}),
    r(
        "POST",
        "/production-orders",
        BUY,
        201,
        body={"sku": "CAKE", "quantity": 1, "location": "WH"},
    ),
    r("GET", "/production-orders", STAFF, 200),
    r(
        "GET",
        "/production-orders/{number}",
        STAFF,
        200,
        params={"number": "{mo_own}"},
        foreign={"params": {"number": "{mo_foreign}"}},
        foreign_status={"warehouse": 404},
    ),
    r("POST", "/production-orders/{number}/release", MANAGE, 409, params={"number": "{mo_own}"}),
    *(
        r(
            "POST",
            f"/production-orders/{{number}}/{verb}",
            FLOOR,
            409,
            params={"number": "{mo_own}"},
            body=body,
            foreign={"params": {"number": "{mo_foreign}"}},
            foreign_status={"warehouse": 404},
        )
        for verb, body in (("start", None), ("produce", {"quantity": 1}), ("close", None))
    ),
    r("POST", "/production-orders/{number}/cancel", BUY, 409, params={"number": "{mo_own}"}),
    # Transfer orders: shipped at the source, received at the target.
    r(
        "POST",
        "/transfer-orders",
        BUY,
        201,
        body={"sku": "CUP", "source": "WH", "target": "STORE", "quantity": 1},
    ),
    r("GET", "/transfer-orders", STAFF, 200),
    r(
        "GET",
        "/transfer-orders/{number}",
        STAFF,
        200,
        params={"number": "{to_from_own}"},
        foreign={"params": {"number": "{to_foreign}"}},
        foreign_status={"warehouse": 404},
    ),
    r(
        "POST",
        "/transfer-orders/{number}/ship",
        FLOOR,
        409,
        params={"number": "{to_from_own}"},
        foreign={"params": {"number": "{to_to_own}"}},
        foreign_status={"warehouse": 422},
    ),
    r(
        "POST",
        "/transfer-orders/{number}/receive",
        FLOOR,
        409,
        params={"number": "{to_to_own}"},
        foreign={"params": {"number": "{to_from_own}"}},
        foreign_status={"warehouse": 422},
    ),
    r("POST", "/transfer-orders/{number}/cancel", BUY, 409, params={"number": "{to_from_own}"}),
    # Forecasts and events
    r("POST", "/forecast-runs", BUY, 422, body={"horizon": 0}),
    r("GET", "/forecast-runs", STAFF, 200),
    r("GET", "/forecast-runs/{run_id}", STAFF, 404, params={"run_id": "1"}),
    r("GET", "/items/{sku}/forecast", STAFF, 404, params={"sku": "CUP"}),
    r("GET", "/items/{sku}/forecast-accuracy", STAFF, 404, params={"sku": "CUP"}),
    r(
        "GET",
        "/forecast-totals/{level}/{key}",
        STAFF,
        404,
        params={"level": "category", "key": "general"},
    ),
    r("GET", "/events", STAFF, 200),
    r(
        "POST",
        "/events",
        BUY,
        201,
        body={"name": "Sale {tag}", "starts_on": "2026-12-01", "ends_on": "2026-12-02"},
    ),
    # Insight
    r("GET", "/classification", STAFF, 200),
    r("GET", "/readiness", STAFF, 200),
    r("GET", "/kpis", STAFF, 200),
    r("PUT", "/settings/holding-rate", OWNER, 200, body={"rate": "0.25"}),
    r("GET", "/settings/supplier-standard", STAFF, 200),
    r("PUT", "/settings/supplier-standard", OWNER, 200, body={"otif": 0.85}),
    r("POST", "/what-if", BUY, 422, body={"scenarios": []}),
    # Plans (none is run here: a plan needs a forecast; reaching the route is what counts)
    r("POST", "/plan-runs", BUY, 422, body={"service_level": 2}),
    r("GET", "/plan-runs", STAFF, 200),
    r("GET", "/plan-runs/{run_id}", STAFF, 404, params={"run_id": "1"}),
    r(
        "PATCH",
        "/plan-runs/{run_id}/lines/{line_id}",
        BUY,
        404,
        params={"run_id": "1", "line_id": "1"},
        body={"quantity": 1},
    ),
    r(
        "POST",
        "/plan-runs/{run_id}/lines/{line_id}/drop",
        BUY,
        404,
        params={"run_id": "1", "line_id": "1"},
    ),
    r("POST", "/plan-runs/{run_id}/approve", MANAGE, 404, params={"run_id": "1"}),
    r("POST", "/plan-runs/{run_id}/release", MANAGE, 404, params={"run_id": "1"}),
    # Spreadsheets: a file upload without its file changes nothing (422).
    r("POST", "/imports/{kind}", MANAGE, 422, params={"kind": "items"}, body={}),
    r("GET", "/imports/{kind}/template", STAFF, 200, params={"kind": "items"}),
    r("GET", "/exports/{kind}", STAFF, 200, params={"kind": "items"}),
    # Webhooks: the owner's; a loopback URL is refused (422) without the development setting.
    r(
        "POST",
        "/webhooks",
        OWNER,
        422,
        body={"url": "http://127.0.0.1/hook", "events": ["*"]},
    ),
    r("GET", "/webhooks", OWNER, 200),
    r("GET", "/events/schemas", OWNER, 200),
    r("GET", "/events/schemas/{event}", OWNER, 200, params={"event": "stock.shipped"}),
    r("GET", "/webhooks/{webhook_id}/deliveries", OWNER, 404, params={"webhook_id": "999"}),
    r("POST", "/webhooks/{webhook_id}/replay", OWNER, 404, params={"webhook_id": "999"}),
    # EDI: an interchange about a cancelled order is acknowledged (200, rejected: nothing
    # changes); a supplier user sends only its own partner's, and reads only its own log.
    r(
        "POST",
        "/edi/inbound",
        BUY | {"supplier"},
        200,
        body=RawBody("{edi_own}"),
        foreign={"body": RawBody("{edi_foreign}")},
        foreign_status={"supplier": 422},  # a partner named in the body: as a missing one
    ),
    r("GET", "/edi/interchanges", EDI_READ, 200, foreign={"query": {"supplier": "RIVAL"}}),
    r(
        "GET",
        "/edi/interchanges/{interchange_id}",
        EDI_READ,
        200,
        params={"interchange_id": "{interchange_own}"},
        foreign={"params": {"interchange_id": "{interchange_foreign}"}},
        foreign_status={"supplier": 404},
    ),
    r(
        "PUT",
        "/suppliers/{code}/edi",
        BUY,
        200,
        params={"code": "P-{tag}"},
        body={"interchange_id": "E-{tag}", "group_id": "E-{tag}"},
    ),
    r("GET", "/suppliers/{code}/edi", STAFF, 200, params={"code": "ACME"}),
    r("DELETE", "/suppliers/{code}/edi", BUY, 404, params={"code": "NOBODY"}),
    r("GET", "/invoice-variances", EDI_READ, 200, foreign={"query": {"supplier": "RIVAL"}}),
]


def _role(principal: str) -> str:
    return "owner" if principal == "read_only" else principal


def expected(route: Route, principal: str, foreign: bool) -> int:
    if route.public:
        return route.ok
    if principal in INVALID:
        return 401
    role = _role(principal)
    if role not in route.allowed:
        return 403
    if principal == "read_only" and route.method != "GET":
        return 403
    own = route.special.get(role, route.ok)
    if foreign:
        return route.foreign_status.get(principal, route.foreign_status.get(role, own))
    return own


def _fill(value: Any, world: World, principal: str) -> Any:
    """Put the world's ids and the principal's tag into a request template."""
    if isinstance(value, dict):
        return {k: _fill(v, world, principal) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world, principal) for v in value]
    if not isinstance(value, str):
        return value
    role = _role(principal) if principal not in INVALID else "owner"
    for name, found in world.ids.items():
        found = found.get(role) if isinstance(found, dict) else found
        value = value.replace(f"{{{name}}}", str(found))
    return value.replace("{tag}", principal)


def call(world: World, route: Route, principal: str, foreign: bool) -> Any:
    params, body, query = route.params, route.body, route.query
    if foreign and route.foreign is not None:
        params = {**params, **route.foreign.get("params", {})}
        body = route.foreign.get("body", body)
        query = route.foreign.get("query", query)
    path = route.path
    for name, value in _fill(params, world, principal).items():
        path = path.replace(f"{{{name}}}", value)
    if isinstance(body, RawBody):
        return world.client.request(
            route.method,
            f"{API}{path}",
            content=_fill(body.text, world, principal).encode(),
            params=_fill(query, world, principal),
            headers=world.headers(principal),
        )
    return world.client.request(
        route.method,
        f"{API}{path}",
        json=_fill(body, world, principal),
        params=_fill(query, world, principal),
        headers=world.headers(principal),
    )


@pytest.fixture(scope="module", params=DATABASES)
def world(request: pytest.FixtureRequest, templates: Templates) -> Iterator[World]:
    with templates.copy(request.param) as url:
        engine: Engine = make_engine(url, pool_size=20)
        built = build(engine)
        try:
            yield built
        finally:
            built.client.__exit__(None, None, None)
            engine.dispose()


@pytest.mark.parametrize("route", TABLE, ids=lambda route: f"{route.method} {route.path}")
def test_each_principal_gets_exactly_its_answer(world: World, route: Route) -> None:
    wrong = []
    for principal in PRINCIPALS:
        for foreign in (False, True) if route.foreign is not None else (False,):
            response = call(world, route, principal, foreign)
            want = expected(route, principal, foreign)
            if response.status_code != want:
                wrong.append(
                    f"{principal}{' (foreign)' if foreign else ''}: {response.status_code}, "
                    f"expected {want}: {response.text[:200]}"
                )
                continue
            _nothing_leaks(world, response, principal, foreign)
    assert not wrong, "\n".join(wrong)


def _nothing_leaks(world: World, response: Any, principal: str, foreign: bool) -> None:
    """A refusal says only why; a foreign object answers as a missing one; a bound principal
    never reads a foreign object's data, in a list or anywhere else."""
    text = response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert set(response.json()) <= {"type", "title", "status", "detail", "errors"}
        assert not any(canary in text for canary in CANARIES[::2]), text
        if (
            foreign
            and response.status_code in (404, 422)
            and principal in ("warehouse", "supplier")
        ):
            assert re.fullmatch(r"No [a-z ]+ \S+ exists\.", response.json()["detail"]), text
    elif principal in ("warehouse", "supplier"):
        leaked = [mark for mark in foreign_marks(world)[principal] if mark in text]
        assert not leaked, f"{principal} read {leaked}: {text[:300]}"


def test_every_route_is_in_the_table(world: World) -> None:
    documented = {
        (method.upper(), path.removeprefix(API))
        for path, operations in world.client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        for method in operations
    }
    tabled = {(route.method, route.path) for route in TABLE}
    assert documented - tabled == set(), "routes missing from the authorization table"
    assert tabled - documented == set(), "routes in the table that no longer exist"


def test_every_route_but_the_public_ones_declares_a_permission(world: World) -> None:
    routes = list(api_routes(world.client.app.routes))  # type: ignore[attr-defined]
    assert len(routes) > 200  # every included router's routes, not only the app's own
    for path, route in routes:
        if path in PUBLIC_PATHS:
            continue
        declared = [
            permissions_of(d.call) for d in route.dependant.dependencies if permissions_of(d.call)
        ]
        assert declared, f"{path} declares no permission"


@pytest.mark.parametrize(
    ("path", "own"),
    [
        ("/sales-orders", ["{so_own}"]),
        ("/production-orders", ["{mo_own}"]),
        ("/transfer-orders", ["{to_from_own}", "{to_to_own}"]),
        ("/purchase-orders", ["{po_own}"]),
        ("/reservations", ["R-res_own"]),
        ("/stocktakes", ["{st_own}"]),
        ("/stock", ['"location":"WH"']),
        ("/items/CUP/lots", ['"location":"WH"']),
        ("/items/CUP/moves", ['"target":"WH"']),
        ("/locations", ['"code":"WH"', '"code":"BACK"']),
    ],
)
def test_a_limited_warehouse_user_lists_its_own_locations_rows_without_naming_one(
    world: World, path: str, own: list[str]
) -> None:
    response = world.client.get(f"{API}{path}", headers=world.headers("warehouse"))
    assert response.status_code == 200, response.text
    for mark in own:
        assert _fill(mark, world, "warehouse") in response.text, (mark, response.text[:300])
    leaked = [m for m in foreign_marks(world)["warehouse"] if m in response.text]
    assert not leaked, leaked
    everyone = world.client.get(f"{API}{path}", headers=world.headers("owner")).json()
    if isinstance(everyone, dict) and "total" in everyone:
        assert response.json()["total"] < everyone["total"]


def test_a_supplier_user_lists_only_its_own_suppliers_purchase_orders(world: World) -> None:
    for query in ({}, {"supplier": "RIVAL"}, {"status": "cancelled"}):
        response = world.client.get(
            f"{API}/purchase-orders", params=query, headers=world.headers("supplier")
        )
        assert response.status_code == 200
        numbers = {row["number"] for row in response.json()["items"]}
        assert world.ids["po_foreign"] not in numbers
        if query.get("supplier") != "RIVAL":
            assert world.ids["po_own"] in numbers
        assert {row["supplier"] for row in response.json()["items"]} <= {"ACME"}
