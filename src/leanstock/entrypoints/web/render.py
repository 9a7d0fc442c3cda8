"""Templates, the page context every page gets, and the HTML answers to errors.

Every page knows who is looking (`actor`), what they may do (`can("sales:write")`, so a
button the role may not press is never drawn) and the session's CSRF token (sent by HTMX as
the `X-CSRF-Token` header and by every form as the `csrf_token` field).
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

from leanstock import __version__
from leanstock.domain.access import Actor
from leanstock.domain.errors import AlreadyExists, Conflict, DomainError

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

# Paths that belong to the API or its docs; every other path is a page of the web app.
NOT_WEB = ("/api/", "/docs", "/redoc", "/openapi.json")
PUBLIC = frozenset({"/login"})
PUBLIC_PREFIXES = ("/static/",)


def is_web(path: str) -> bool:
    return not path.startswith(NOT_WEB)


def quantity(value: Any) -> str:
    """A quantity as people write it: no trailing zeros, thousands apart."""
    if value is None:
        return "–"
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{number:,.0f}"
    return f"{number.normalize():,f}"


def day(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def share(value: Any) -> str:
    """A share from 0 to 1 as a percentage; "—" when there was nothing to judge."""
    return "—" if value is None else f"{float(value) * 100:.1f} %"


def score(value: Any) -> str:
    """A forecast accuracy score to three decimals; "—" when it could not be computed."""
    return "—" if value is None else f"{float(value):.3f}"


def number(value: Any) -> str:
    """A measured figure to one decimal; "—" when there is none."""
    return "—" if value is None else f"{float(value):.1f}"


templates.env.filters["qty"] = quantity
templates.env.filters["share"] = share
templates.env.filters["number"] = number
templates.env.filters["score"] = score
templates.env.filters["day"] = day
templates.env.filters["urlquote"] = lambda v: quote(str(v), safe="")
templates.env.globals["version"] = __version__


def actor_of(request: Request) -> Actor | None:
    found = request.scope.get("state", {}).get("actor")
    return found if isinstance(found, Actor) else None


def htmx(request: Request) -> bool:
    """A request HTMX made for a part of a page (not a boosted whole page)."""
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    actor = actor_of(request)
    page: dict[str, Any] = {
        "actor": actor,
        "can": (lambda p: actor is not None and actor.can(p)),
        "csrf": request.scope.get("state", {}).get("csrf_token") or "",
        # New each time a page is drawn: the form posts it, and posting it twice (a double
        # click) replays the first answer (`api/idempotency.py`).
        "form_key": secrets.token_urlsafe(18),
        "path": request.url.path,
    }
    page.update(context or {})
    return templates.TemplateResponse(request, template, page, status_code=status, headers=headers)


TITLES = {
    400: "That did not work",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Not now",
    413: "Too large",
    422: "Please check what you entered",
    429: "Too many attempts",
    500: "Something went wrong",
}

FIXES = {
    401: "Sign in again: your session may have ended.",
    403: "Ask an owner for a role that may do this, or go back.",
    404: "Check the address, or find it from the menu.",
    500: "It has been logged. Try again; if it happens again, tell whoever runs Leanstock.",
}


def error_page(request: Request, status: int, detail: str) -> Response:
    """An error as a page (or, for an HTMX request, as a message the page shows): what went
    wrong and what to do about it; never a stack trace."""
    context = {
        "status": status,
        "title": TITLES.get(status, "That did not work"),
        "detail": detail,
        "fix": FIXES.get(status, ""),
    }
    if htmx(request):
        # Swap the message into the page's message area instead of the target.
        return render(
            request,
            "_error.html",
            context,
            status,
            {"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"},
        )
    return render(request, "error.html", context, status)


def refused(error: DomainError) -> int:
    """The status of a form drawn again with the service's refusal beside its field: 409 when
    the state of things forbids it (a duplicate, an order in the wrong state), else 422."""
    return 409 if isinstance(error, AlreadyExists | Conflict) else 422


# What a page's "done" banner may say after a redirect (`?done=...`): the outcomes the web app's
# own redirects name, optionally after the code of what was changed ("C-7 deleted"), or that code
# alone (a location's "Location WH-2 added."). Anything else in the link shows no banner, so a
# crafted link cannot make a page announce a text of an attacker's choosing.
OUTCOMES = frozenset(
    {
        "added",
        "approved",
        "cancelled",
        "changed",
        "closed",
        "confirmed",
        "counted",
        "created",
        "deleted",
        "disabled",
        "edited",
        "enabled",
        "given a new password",
        "placed",
        "posted",
        "received",
        "released",
        "reported",
        "revoked",
        "shipped",
        "started",
        "updated: proposal accepted",
        "updated: proposal rejected",
        "acknowledged",
        "updated",
        "proposed",
        "delivered",
    }
)
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")


def done_banner(request: Request) -> str:
    """The `done` query parameter if it is one of the app's own outcomes (see OUTCOMES), else ""."""
    text = request.query_params.get("done", "")
    if text in OUTCOMES or _CODE.fullmatch(text):
        return text
    code, _, outcome = text.partition(" ")
    return text if _CODE.fullmatch(code) and outcome in OUTCOMES else ""
