"""A small business with every kind of principal and object, for the authorization table.

Objects come in pairs: one the bound principals own (the warehouse user's location WH, the
supplier user's supplier ACME) and one foreign to them (STORE, RIVAL). Orders and reservations
the table acts on are cancelled or released first, so a principal let through gets the same
deterministic answer (409, "not in this state") however many others went before it, and
nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Actor, Role, Scope
from leanstock.domain.errors import NotFound
from leanstock.entrypoints.api.app import create_app
from leanstock.services import accounts, tokens

API = "/api/v1"
PASSWORD = "correct horse battery staple"
ROLES = [r.value for r in Role]
# Principals that are not a role's valid token; each answers 401 on every non-public route.
INVALID = ["none", "expired", "revoked", "disabled"]
PRINCIPALS = [*ROLES, "read_only", *INVALID]
# Strings only foreign objects carry: no answer to a bound principal may contain them.
CANARIES = ("Rival Canary", "RIVAL", "CANARY-CUSTOMER")


@dataclass
class World:
    client: TestClient
    tokens: dict[str, str]
    ids: dict[str, Any] = field(default_factory=dict)

    def headers(self, principal: str) -> dict[str, str]:
        token = self.tokens.get(principal)
        return {"Authorization": f"Bearer {token}"} if token else {}


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _token(
    uow: UnitOfWork,
    email: str,
    role: Role,
    *,
    scope: Scope = Scope.WRITE,
    now: datetime | None = None,
    **bindings: Any,
) -> tuple[int, str]:
    try:
        user_id = accounts.user_id_of(uow, email)
    except NotFound:
        user_id = accounts.create_user(uow, email, PASSWORD, role, **bindings).id
    made = tokens.create_token(uow, user_id, "authz", scope, timedelta(days=1), now=now)
    return made.token.id, made.secret


def build(engine: Engine) -> World:
    uow = UnitOfWork(engine)
    secrets: dict[str, str] = {}
    ids: dict[str, Any] = {}
    bindings: dict[str, dict[str, Any]] = {
        "warehouse": {"locations": ["WH", "BACK"]},
        "supplier": {"supplier": "ACME"},
    }
    _, secrets["owner"] = _token(uow, "owner@example.com", Role.OWNER)
    client = TestClient(create_app(engine=engine), raise_server_exceptions=False)
    client.__enter__()
    owner = {"Authorization": f"Bearer {secrets['owner']}"}

    def post(path: str, body: Any = None, status: int = 201) -> Any:
        return _ok(client.post(f"{API}{path}", json=body, headers=owner), status)

    post("/locations", {"code": "WH", "name": "Warehouse"})
    post("/locations", {"code": "STORE", "name": "Store", "kind": "store"})
    post("/locations", {"code": "BACK", "name": "Back room"})
    post("/locations", {"code": "FAR", "name": "Far store", "kind": "store"})
    post("/items", {"sku": "CUP", "name": "Cup", "barcodes": ["4006381333931"]})
    post("/customers", {"code": "BISTRO", "name": "Bistro"})
    post("/items", {"sku": "FLOUR", "name": "Flour", "unit": "kg"})
    post("/items", {"sku": "CAKE", "name": "Cake", "kind": "made", "policy": "make_to_order"})
    post("/suppliers", {"code": "ACME", "name": "Acme Cups"})
    post("/suppliers", {"code": "RIVAL", "name": "Rival Canary Supplies"})
    for supplier in ("ACME", "RIVAL"):
        post(f"/suppliers/{supplier}/items", {"sku": "CUP", "price": "1.5", "lead_time_days": 3})
    post("/suppliers/ACME/items", {"sku": "FLOUR", "price": "2", "lead_time_days": 3})
    for principal in PRINCIPALS:  # one each, to add terms to
        post("/suppliers", {"code": f"P-{principal}", "name": f"Partner of {principal}"})
    for location in ("WH", "STORE"):
        for sku in ("CUP", "FLOUR"):
            post("/stock/receipts", {"sku": sku, "location": location, "quantity": 1000})
    post("/boms", {"sku": "CAKE", "lines": [{"sku": "FLOUR", "quantity": 1}]})

    for supplier, location, key in (("ACME", "WH", "po_own"), ("RIVAL", "STORE", "po_foreign")):
        line = {"sku": "CUP", "quantity": 5, "location": location}
        number = post("/purchase-orders", {"supplier": supplier, "lines": [line]})["number"]
        post(f"/purchase-orders/{number}/cancel", None, 200)
        ids[key] = number
    for location, key in (("WH", "so_own"), ("STORE", "so_foreign")):
        order = {
            "customer": "CANARY-CUSTOMER",
            "location": location,
            "lines": [{"sku": "CUP", "quantity": 1}],
        }
        number = post("/sales-orders", order)["number"]
        post(f"/sales-orders/{number}/cancel", None, 200)
        ids[key] = number
    for location, key in (("WH", "res_own"), ("STORE", "res_foreign")):
        body = {"sku": "CUP", "location": location, "quantity": 1, "reference": f"R-{key}"}
        reservation = post("/reservations", body)["id"]
        post(f"/reservations/{reservation}/release", {}, 200)
        ids[key] = reservation
    for location, key in (("WH", "mo_own"), ("STORE", "mo_foreign")):
        body = {"sku": "CAKE", "quantity": 1, "location": location}
        number = post("/production-orders", body)["number"]
        post(f"/production-orders/{number}/cancel", None, 200)
        ids[key] = number
    for source, target, key in (
        ("WH", "STORE", "to_from_own"),
        ("STORE", "WH", "to_to_own"),
        ("STORE", "FAR", "to_foreign"),
    ):
        body = {"sku": "CUP", "source": source, "target": target, "quantity": 1}
        number = post("/transfer-orders", body)["number"]
        post(f"/transfer-orders/{number}/cancel", None, 200)
        ids[key] = number

    for location, key in (("WH", "st_own"), ("STORE", "st_foreign")):
        number = post("/stocktakes", {"location": location, "freeze": True})["number"]
        post(f"/stocktakes/{number}/cancel", None, 200)
        ids[key] = number

    for role in ROLES:
        if role == "owner":
            continue
        _, secrets[role] = _token(uow, f"{role}@example.com", Role(role), **bindings.get(role, {}))
    ids["own_token"] = {}
    ids["spare_token"] = {}
    for role in ROLES:
        email = f"{role}@example.com"
        user_id = accounts.user_id_of(uow, email)
        ids["own_token"][role] = tokens.list_tokens(uow, user_id).items[0].id
        spare, _ = _token(uow, email, Role(role))
        tokens.revoke_token(uow, _system(), spare)
        ids["spare_token"][role] = spare
    _, secrets["read_only"] = _token(uow, "owner@example.com", Role.OWNER, scope=Scope.READ)
    _, secrets["expired"] = _token(
        uow, "viewer@example.com", Role.VIEWER, now=datetime.now(UTC) - timedelta(days=2)
    )
    revoked, secrets["revoked"] = _token(uow, "viewer@example.com", Role.VIEWER)
    tokens.revoke_token(uow, _system(), revoked)
    _, secrets["disabled"] = _token(uow, "gone@example.com", Role.MANAGER)
    accounts.update_user(uow, accounts.user_id_of(uow, "gone@example.com"), {"active": False})
    # Someone else's: users owners manage, and a token nobody else may see.
    dummy = accounts.create_user(uow, "dummy@example.com", PASSWORD, Role.VIEWER)
    ids["dummy_user"] = dummy.id
    foreign_token, _ = _token(uow, "dummy@example.com", Role.VIEWER)
    tokens.revoke_token(uow, _system(), foreign_token)
    ids["foreign_token"] = foreign_token
    ids["user_read"] = accounts.user_id_of(uow, "viewer@example.com")
    return World(client, secrets, ids)


def foreign_marks(world: World) -> dict[str, list[str]]:
    """Per bound principal, what of an object foreign to it no answer of 200 may contain: the
    numbers of orders elsewhere, and rows at a location not granted."""
    ids = world.ids
    return {
        "warehouse": [
            ids["so_foreign"],
            ids["mo_foreign"],
            ids["to_foreign"],
            ids["po_foreign"],
            ids["st_foreign"],
            "R-res_foreign",
            '"location":"STORE"',
            '"code":"STORE"',
        ],
        "supplier": [ids["po_foreign"], *CANARIES],
    }


def _system() -> Actor:
    return Actor.system("authz-setup")
