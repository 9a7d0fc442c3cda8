"""Settings, for owners: users (add one with a first password, change role, bindings or name,
disable or enable, set a new password), API tokens (create one, its secret shown once; revoke)
and locations (list, add), through the same services as `/api/v1/users`, `/tokens` and
`/locations`.

The pages need `user:read`, which only owners have: anyone else gets 403 and no link to them.
Each action needs what the API's needs (`user:write`, `token:write`, `catalog:write`).

The token form carries no idempotency key: its answer holds the secret, and a stored answer
would keep the secret in the database for a day, where nothing else keeps it. The form's
button is disabled while it posts (HTMX), so a double click still makes one token.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from leanstock.domain.access import Actor, Role, Scope
from leanstock.domain.accounts import MAX_TOKEN_DAYS
from leanstock.domain.catalog import PHYSICAL_KINDS, Location, LocationKind
from leanstock.domain.errors import DomainError, InvalidInput
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.forms import Form, read_form
from leanstock.entrypoints.web.orders import _done
from leanstock.entrypoints.web.render import done_banner, refused, render
from leanstock.services import accounts, catalog, tokens

router = APIRouter(include_in_schema=False)
PAGE = 50
ROLES = [r.value for r in Role]
KINDS = sorted(k.value for k in PHYSICAL_KINDS)
USER_FIELDS = ("email", "display_name", "role", "password", "locations", "supplier")
TOKEN_FIELDS = ("name", "scope", "expires_in_days")
LOCATION_FIELDS = ("code", "name", "kind")


@router.get("/settings", dependencies=[permit("user:read")])
def settings_home() -> Response:
    return RedirectResponse("/settings/users", status_code=303)


# Users


def _codes(form: Form, name: str) -> list[str] | None:
    """A list typed as `WH, STORE-1` (empty: none)."""
    typed = [part.strip() for part in form.values.get(name, "").split(",")]
    return [part for part in typed if part] or None


def _role(form: Form) -> Role:
    chosen = form.values.get("role", "")
    if chosen not in ROLES:
        raise InvalidInput(f"Choose a role: {', '.join(ROLES)}.", "role")
    return Role(chosen)


def _users_context(
    uow: UowDep, values: dict[str, str], error: DomainError | None, offset: int = 0
) -> dict[str, Any]:
    return {
        "page": accounts.list_users(uow, PAGE, max(offset, 0)),
        "query": "",
        "roles": ROLES,
        "values": values,
        "error": error,
        "fields": USER_FIELDS,
    }


@router.get("/settings/users")
def users(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("user:read")], offset: int = 0
) -> Response:
    context = _users_context(uow, {"role": Role.VIEWER.value}, None, offset)
    context["done"] = done_banner(request)
    return render(request, "settings/users.html", context)


@router.post("/settings/users")
async def add_user(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("user:write")]
) -> Response:
    """Add a user with a first password, which the owner hands over."""
    form = await read_form(request)
    try:
        user = accounts.create_user(
            uow,
            form.text("email", "email address"),
            form.values.get("password", ""),
            _role(form),
            name=form.optional("display_name"),
            locations=_codes(form, "locations"),
            supplier=form.optional("supplier"),
        )
    except DomainError as error:
        values = {k: v for k, v in form.values.items() if k != "password"}
        context = _users_context(uow, values, error)
        return render(request, "settings/users.html", context, refused(error))
    return _done(request, f"/settings/users/{user.id}?done=added")


def _user_page(
    request: Request,
    uow: UowDep,
    user_id: int,
    values: dict[str, str] | None,
    error: DomainError | None,
    status: int = 200,
) -> Response:
    user = accounts.get_user(uow, user_id)
    shown = values or {
        "display_name": user.display_name,
        "role": user.role.value,
        "locations": ", ".join(sorted(user.locations or ())),
        "supplier": user.supplier or "",
    }
    context = {
        "user": user,
        "roles": ROLES,
        "values": shown,
        "error": error,
        "done": done_banner(request) if error is None else "",
        "fields": ("display_name", "role", "locations", "supplier", "password"),
    }
    return render(request, "settings/user.html", context, status)


@router.get("/settings/users/{user_id}")
def user_page(
    user_id: int, request: Request, uow: UowDep, actor: Annotated[Actor, permit("user:read")]
) -> Response:
    return _user_page(request, uow, user_id, None, None)


@router.post("/settings/users/{user_id}")
async def change_user(
    user_id: int, request: Request, uow: UowDep, actor: Annotated[Actor, permit("user:write")]
) -> Response:
    """Change name, role or bindings; the user's sessions end when role or bindings change."""
    form = await read_form(request)
    try:
        changes = {
            "display_name": form.text("display_name", "display name"),
            "role": _role(form),
            "locations": _codes(form, "locations"),
            "supplier": form.optional("supplier"),
        }
        accounts.update_user(uow, user_id, changes)
    except DomainError as error:
        return _user_page(request, uow, user_id, form.values, error, refused(error))
    return _done(request, f"/settings/users/{user_id}?done=changed")


@router.post("/settings/users/{user_id}/active")
async def enable_user(
    user_id: int, request: Request, uow: UowDep, actor: Annotated[Actor, permit("user:write")]
) -> Response:
    """Disable (their sessions end, their tokens stop working) or enable a user again."""
    form = await read_form(request)
    active = form.values.get("active") == "1"
    try:
        accounts.update_user(uow, user_id, {"active": active})
    except DomainError as error:
        return _user_page(request, uow, user_id, None, error, refused(error))
    return _done(request, f"/settings/users/{user_id}?done={'enabled' if active else 'disabled'}")


@router.post("/settings/users/{user_id}/password")
async def reset_password(
    user_id: int, request: Request, uow: UowDep, actor: Annotated[Actor, permit("user:write")]
) -> Response:
    """Set a new password for a user (who forgot theirs); their sessions end."""
    form = await read_form(request)
    try:
        accounts.reset_password(uow, user_id, form.values.get("password", ""))
    except DomainError as error:
        return _user_page(request, uow, user_id, None, error, refused(error))
    return _done(request, f"/settings/users/{user_id}?done=given a new password")


# API tokens


def _tokens_context(
    uow: UowDep, values: dict[str, str], error: DomainError | None, offset: int = 0
) -> dict[str, Any]:
    return {
        "page": tokens.list_tokens(uow, None, PAGE, max(offset, 0)),
        "query": "",
        "values": values,
        "error": error,
        "fields": TOKEN_FIELDS,
        "scopes": [s.value for s in Scope],
        "max_days": MAX_TOKEN_DAYS,
        "created": None,
    }


@router.get("/settings/tokens")
def token_list(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("user:read")], offset: int = 0
) -> Response:
    """Everyone's tokens, newest first (never their secrets)."""
    context = _tokens_context(uow, {"scope": "read", "expires_in_days": "90"}, None, offset)
    context["done"] = done_banner(request)
    return render(request, "settings/tokens.html", context)


@router.post("/settings/tokens")
async def create_token(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("user:read")]
) -> Response:
    """A token for the signed-in owner; its secret is on this answer only."""
    actor.require("token:write")
    form = await read_form(request)
    try:
        scope = form.values.get("scope", "")
        if scope not in {s.value for s in Scope}:
            raise InvalidInput("Choose what the token may do: read, or read and write.", "scope")
        days = form.decimal("expires_in_days", "days it lives")
        if days != days.to_integral_value() or not 1 <= days <= MAX_TOKEN_DAYS:
            raise InvalidInput(
                f"A token lives 1 to {MAX_TOKEN_DAYS} whole days; enter a number of days.",
                "expires_in_days",
            )
        if actor.user_id is None:
            raise InvalidInput("Sign in as a user to create a token.", "name")
        made = tokens.create_token(
            uow,
            actor.user_id,
            form.values.get("name", ""),
            Scope(scope),
            timedelta(days=int(days)),
        )
    except DomainError as error:
        context = _tokens_context(uow, form.values, error)
        return render(request, "settings/tokens.html", context, refused(error))
    context = _tokens_context(uow, {"scope": "read", "expires_in_days": "90"}, None)
    context["created"] = made
    # Never kept by a browser's cache or history: the secret is shown this once.
    return render(request, "settings/tokens.html", context, 201, {"Cache-Control": "no-store"})


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(
    token_id: int, request: Request, uow: UowDep, actor: Annotated[Actor, permit("user:read")]
) -> Response:
    """Revoke a token at once (anyone's: this is the owners' page)."""
    actor.require("token:write")
    tokens.revoke_token(uow, actor, token_id)
    return _done(request, "/settings/tokens?done=revoked")


# Locations


def _locations_context(
    uow: UowDep, values: dict[str, str], error: DomainError | None, offset: int = 0
) -> dict[str, Any]:
    return {
        "page": catalog.list_locations(uow, PAGE, max(offset, 0), physical=True),
        "query": urlencode({}),
        "kinds": KINDS,
        "values": values,
        "error": error,
        "fields": LOCATION_FIELDS,
    }


@router.get("/settings/locations")
def locations(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("user:read")], offset: int = 0
) -> Response:
    context = _locations_context(uow, {"kind": LocationKind.WAREHOUSE.value}, None, offset)
    context["done"] = done_banner(request)
    return render(request, "settings/locations.html", context)


@router.post("/settings/locations")
async def add_location(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("catalog:write")]
) -> Response:
    """Add a warehouse, store, quarantine or work-in-progress location."""
    form = await read_form(request)
    try:
        kind = form.values.get("kind", "")
        if kind not in KINDS:
            raise InvalidInput(f"Choose a kind of location: {', '.join(KINDS)}.", "kind")
        location = Location(
            form.text("code", "location's code"), form.text("name", "name"), LocationKind(kind)
        )
        catalog.add_location(uow, location)
    except DomainError as error:
        context = _locations_context(uow, form.values, error)
        return render(request, "settings/locations.html", context, refused(error))
    return _done(request, f"/settings/locations?done={location.code}")
