"""`leanstock user ...`, `leanstock token ...` and `leanstock audit`: accounts from the command
line. Whoever runs these holds the database already; their changes are audited as
`cli:<login name>`."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leanstock.domain.access import Actor, Role, Scope
from leanstock.domain.accounts import User, token_lifetime
from leanstock.entrypoints.cli.app import (
    app,
    console,
    err_console,
    handled,
    iso_datetime,
    open_engine,
)

if TYPE_CHECKING:
    from leanstock.adapters.db.uow import UnitOfWork

users = typer.Typer(help="Users: create, list, disable, change role, reset password.")
tokens_app = typer.Typer(help="API tokens: create (shown once), list, revoke.")
app.add_typer(users, name="user")
app.add_typer(tokens_app, name="token")

PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]
Locations = Annotated[
    list[str] | None,
    typer.Option("--location", "-l", help="Limit a warehouse user to this location (repeat)."),
]
SupplierOption = Annotated[
    str | None, typer.Option("--supplier", help="The supplier a supplier user works for.")
]


def _uow() -> UnitOfWork:
    from leanstock.adapters.db.uow import UnitOfWork

    return UnitOfWork(open_engine())


def read_password(from_stdin: bool, prompt: str = "Password") -> str:
    """From stdin's first line, or typed twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return value


def _users_table(found: list[User], title: str, total: int | None = None) -> None:
    table = Table(title=title, caption=f"{total} in all" if total is not None else None)
    for column in ("email", "name", "role", "active", "bound to"):
        table.add_column(column)
    for user in found:
        bound = user.supplier or ", ".join(sorted(user.locations or ())) or ""
        table.add_row(
            user.email, user.display_name, user.role.value, "yes" if user.active else "no", bound
        )
    console.print(table)


def create_owner(uow: UnitOfWork, email: str, name: str | None, password: str) -> None:
    from leanstock.services import accounts

    user = accounts.create_user(uow, email, password, Role.OWNER, name=name)
    console.print(f"[green]Owner {user.email} created.[/] Sign in with that email and password.")


@users.command("create")
def create_user(
    email: str,
    role: Annotated[Role, typer.Option("--role", "-r", help="What the user may do.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: from email).")] = None,
    location: Locations = None,
    supplier: SupplierOption = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user; the password (12+ characters, not a common one) is asked for twice."""
    from leanstock.services import accounts

    with handled():
        password = read_password(password_stdin)
        user = accounts.create_user(
            _uow(), email, password, role, name=name, locations=location, supplier=supplier
        )
    _users_table([user], "User created")


@users.command("list")
def list_users(
    role: Annotated[Role | None, typer.Option(help="Only this role.")] = None,
    all_users: Annotated[bool, typer.Option("--all", help="Disabled users too.")] = False,
    limit: int = 100,
    offset: int = 0,
) -> None:
    """List users (active ones unless --all)."""
    from leanstock.services import accounts

    with handled():
        page = accounts.list_users(_uow(), limit, offset, role, None if all_users else True)
    _users_table(page.items, "Users", page.total)


def _change(email: str, changes: dict[str, object], title: str) -> None:
    from leanstock.services import accounts

    with handled():
        uow = _uow()
        user = accounts.update_user(uow, accounts.user_id_of(uow, email), changes)
    _users_table([user], title)


@users.command("disable")
def disable_user(email: str) -> None:
    """Disable a user: their sessions end and their tokens stop working at once."""
    _change(email, {"active": False}, "User disabled")


@users.command("enable")
def enable_user(email: str) -> None:
    """Enable a disabled user again (their tokens work again unless expired or revoked)."""
    _change(email, {"active": True}, "User enabled")


@users.command("set-role")
def set_role(
    email: str,
    role: Role,
    location: Locations = None,
    supplier: SupplierOption = None,
) -> None:
    """Change a user's role (and, for warehouse or supplier users, what they are bound to)."""
    changes: dict[str, object] = {"role": role}
    if location:
        changes["locations"] = location
    if supplier:
        changes["supplier"] = supplier
    _change(email, changes, "Role changed")


@users.command("reset-password")
def reset_password(email: str, password_stdin: PasswordStdin = False) -> None:
    """Set a new password for a user; their web sessions end."""
    from leanstock.services import accounts

    with handled():
        uow = _uow()
        user_id = accounts.user_id_of(uow, email)
        password = read_password(password_stdin, "New password")
        accounts.reset_password(uow, user_id, password)
    console.print(f"[green]Password of {email} reset.[/]")


@tokens_app.command("create")
def create_token(
    user: Annotated[str, typer.Option("--user", "-u", help="Whose token (email).")],
    name: Annotated[str, typer.Option("--name", "-n", help="What it is for.")],
    scope: Annotated[Scope, typer.Option(help="read: only reads; write: all the user may.")] = (
        Scope.WRITE
    ),
    expires: Annotated[str, typer.Option(help="Lifetime: 90d, 12h, 8w (at most 366d).")] = "90d",
) -> None:
    """Create an API token and print it, once: it is not stored and cannot be shown again."""
    from leanstock.services import accounts, tokens

    with handled():
        uow = _uow()
        made = tokens.create_token(
            uow, accounts.user_id_of(uow, user), name, scope, token_lifetime(expires)
        )
    err_console.print(
        f"Token {made.token.prefix} for {made.token.user} ({made.token.scope.value}), expires "
        f"{made.token.expires_at:%Y-%m-%d %H:%M} UTC. Copy it now; it is shown only once:"
    )
    typer.echo(made.secret)


@tokens_app.command("list")
def list_tokens(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's.")] = None,
    limit: int = 100,
    offset: int = 0,
) -> None:
    """List tokens (never their secrets), newest first."""
    from leanstock.services import accounts, tokens

    with handled():
        uow = _uow()
        user_id = accounts.user_id_of(uow, user) if user else None
        page = tokens.list_tokens(uow, user_id, limit, offset)
    table = Table(title="API tokens", caption=f"{page.total} in all")
    for column in ("prefix", "name", "user", "scope", "status", "expires", "last used"):
        table.add_column(column, no_wrap=column not in ("name", "user"), overflow="fold")
    for t in page.items:
        table.add_row(
            t.prefix,
            t.name,
            t.user,
            t.scope.value,
            t.status,
            f"{t.expires_at:%Y-%m-%d}",
            f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
        )
    console.print(table)


@tokens_app.command("revoke")
def revoke_token(prefix: str) -> None:
    """Revoke a token by its prefix (`lst_ab12cd34`); it stops working at once."""
    from leanstock.services import tokens

    with handled():
        uow = _uow()
        view = tokens.revoke_token(uow, Actor.system("cli"), tokens.token_id_of(uow, prefix))
    console.print(f"[green]Token {view.prefix} of {view.user} revoked.[/]")


@app.command("audit")
def audit_trail(
    subject: Annotated[
        str | None,
        typer.Option("--object", "-o", help="An order number, user:<email> or token:<prefix>."),
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Who acted (an email).")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. login_failed, user_update.")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(parser=iso_datetime, help="From this time (UTC), YYYY-MM-DD[THH:MM]."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(parser=iso_datetime, help="Before this time (UTC), YYYY-MM-DD[THH:MM]."),
    ] = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    """Who changed what and when, newest first."""
    from leanstock.services import audit

    with handled():
        page = audit.audit_trail(_uow(), subject, actor, action, since, until, None, limit, offset)
    console.print(f"[bold]Audit trail[/], newest first ({page.total} in all)")
    for row in page.items:
        via = f" via {row['credential']}" if row["credential"] else ""
        console.print(
            f"{row['created_at']:%Y-%m-%d %H:%M:%S}  {row['action']} {row['subject']}"
            f"  by {row['actor']}{via}",
            markup=False,
            highlight=False,
        )
        console.print(
            f"    {json.dumps(row['changes'], default=str)}", markup=False, highlight=False
        )
