"""`leanstock serve` and `leanstock demo`: the HTTP API on uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.config import get_settings
from leanstock.demo.generate import generate
from leanstock.entrypoints.api import server
from leanstock.entrypoints.cli.app import app, console, database_url, handled, open_engine
from leanstock.services import catalog
from leanstock.services.demo import load_demo


def run_server(host: str, port: int, workers: int) -> None:
    """Serve the API; worker processes read the database URL from the environment."""
    os.environ["LEANSTOCK_DATABASE_URL"] = database_url()
    console.print(
        f"Leanstock API on [bold]http://{host}:{port}/api/v1[/], "
        f"docs at [bold]http://{host}:{port}/docs[/]  (Ctrl+C stops)"
    )
    server.serve(host, port, workers)


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (stateless; 1 for SQLite).")] = 1,
) -> None:
    """Serve the HTTP API on the configured database."""
    with handled():
        open_engine().dispose()
    run_server(host, port, workers)


@app.command()
def demo(
    path: Annotated[Path, typer.Option(help="SQLite file for the demo business.")] = Path(
        "leanstock-demo.db"
    ),
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same business.")
    ] = 42,
    fresh: Annotated[bool, typer.Option(help="Start over even if the file exists.")] = False,
    serve_api: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the API afterwards.")
    ] = True,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Create a sample business (about 200 items, a warehouse and two stores, 8 suppliers,
    two years of history) in a SQLite file, then serve the API on it."""
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ["LEANSTOCK_DATABASE_URL"] = f"sqlite:///{path.resolve()}"
    get_settings.cache_clear()
    engine = open_engine()
    uow = UnitOfWork(engine)
    with handled():
        if catalog.list_items(uow, 1, 0).total == 0:
            with console.status(f"Generating the sample business (seed {seed})..."):
                business = generate(seed)
            with console.status("Writing two years of history to the database..."):
                summary = load_demo(uow, business)
            table = Table(title=f"Demo business in {path}")
            table.add_column("what")
            table.add_column("how many", justify="right")
            for name, value in vars(summary).items():
                table.add_row(name.replace("_", " "), str(value))
            console.print(table)
        else:
            console.print(f"Using the demo business already in {path} (--fresh starts over).")
    engine.dispose()
    if serve_api:
        run_server(host, port, 1)
