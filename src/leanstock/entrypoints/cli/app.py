"""The `leanstock` Typer application that every command module registers on."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="leanstock",
    help="Leanstock: just-in-time inventory management.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def main() -> None:
    """Leanstock: just-in-time inventory management."""
