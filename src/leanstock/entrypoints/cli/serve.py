"""`leanstock serve` and `leanstock demo`: the HTTP API on uvicorn."""

from __future__ import annotations

import os
import shlex
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leanstock.entrypoints.cli.app import (
    app,
    console,
    database_url,
    err_console,
    handled,
    open_engine,
)

if TYPE_CHECKING:
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.services.demo import DemoLogin


def run_server(host: str, port: int, workers: int) -> None:
    """Serve the API; worker processes read the database URL from the environment. A
    database without an active owner is refused: nobody could sign in to it."""
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.entrypoints.api import server
    from leanstock.services import accounts

    os.environ["LEANSTOCK_DATABASE_URL"] = database_url()
    engine = open_engine()
    owned = accounts.has_owner(UnitOfWork(engine))
    engine.dispose()
    if not owned:
        err_console.print(f"[red]{accounts.NO_OWNER}[/]")
        raise typer.Exit(2)
    console.print(
        f"Leanstock web app on [bold]http://{host}:{port}/[/], "
        f"API on [bold]http://{host}:{port}/api/v1[/], "
        f"docs at [bold]http://{host}:{port}/docs[/]  (Ctrl+C stops)"
    )
    from leanstock.config import get_settings

    settings = get_settings()
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker process counts into files here, and whichever answers /metrics sums
        # them all (prometheus_client's multiprocess mode); a fresh folder per start.
        import tempfile

        metrics_dir = tempfile.mkdtemp(prefix="leanstock-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    stop = None
    if settings.publisher:
        from leanstock.entrypoints.cli.worker import start_publisher

        stop = start_publisher(open_engine(), settings.publisher_interval)
    try:
        server.serve(host, port, workers)
    finally:
        if stop is not None:
            stop.set()
        if metrics_dir is not None:
            import shutil

            shutil.rmtree(metrics_dir, ignore_errors=True)


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
    samples: Annotated[
        Path | None,
        typer.Option(
            help="Also write sales.csv, demand.csv and items.csv from the demo's history to "
            "this directory: the README tour's forecast and simulate files.",
            file_okay=False,
        ),
    ] = None,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Create a sample business (about 200 items, a warehouse and two stores, 8 suppliers,
    two years of history) in a SQLite file, then serve the API on it."""
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.config import get_settings
    from leanstock.demo.generate import WAREHOUSE, generate
    from leanstock.services import catalog
    from leanstock.services.demo import demo_logins, load_demo
    from leanstock.services.demo_edi import demo_edi
    from leanstock.services.kpi_snapshot import refresh_snapshot

    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path.resolve()}"
    os.environ["LEANSTOCK_DATABASE_URL"] = url
    get_settings.cache_clear()
    engine = open_engine(create=True)
    uow = UnitOfWork(engine)
    with handled():
        if catalog.list_items(uow, 1, 0).total == 0:
            with console.status(f"Generating the sample business (seed {seed})..."):
                business = generate(seed)
            with console.status("Writing two years of history to the database..."):
                summary = load_demo(uow, business)
            with console.status("Trading by EDI with Valley Dairy (the sample interchanges)..."):
                traded = demo_edi(uow, date.today(), WAREHOUSE)
            table = Table(title=f"Demo business in {path}")
            table.add_column("what")
            table.add_column("how many", justify="right")
            for name, value in vars(summary).items():
                table.add_row(name.replace("_", " "), str(value))
            console.print(table)
            for note in traded:
                console.print(f"EDI {escape(note)}", highlight=False)
        else:
            console.print(f"Using the demo business already in {path} (--fresh starts over).")
        # The KPI pages (and the Today page's KPI tiles) read the monthly cost snapshot; built
        # here from two years of moves, not on the first page a user opens (about 10 s).
        with console.status("Working out the monthly KPI figures..."):
            refresh_snapshot(uow)
        if samples is not None:
            _write_samples(uow, samples)
        logins = demo_logins(uow)
    engine.dispose()
    _print_logins(logins, host, port)
    option = escape(shlex.quote(url))
    console.print(
        "Use it with the other commands: "
        f"[bold]leanstock --database {option} stock --sku BAK-001[/]\n"
        f"or once for this shell: [bold]export LEANSTOCK_DATABASE_URL={option}[/]",
        highlight=False,
        soft_wrap=True,
    )
    # The demo serves plain http on this machine: the session cookie cannot require HTTPS.
    os.environ["LEANSTOCK_COOKIE_SECURE"] = "false"
    if serve_api:
        run_server(host, port, 1)


def _write_samples(uow: UnitOfWork, directory: Path) -> None:
    from leanstock.services.demo import sample_files

    directory.mkdir(parents=True, exist_ok=True)
    with console.status("Writing the sample files..."):
        files = sample_files(uow)
    for name, frame in files.items():
        frame.write_csv(directory / name)
        console.print(f"Wrote {directory / name} ({frame.height} rows).", highlight=False)


def _print_logins(logins: list[DemoLogin], host: str, port: int) -> None:
    table = Table(
        title="DEMO ONLY: sign-ins for this demo database (new passwords on every start)",
        caption="Never use these users or passwords for real data.",
        title_style="bold yellow",
    )
    for column in ("role", "email", "password", "bound to"):
        table.add_column(column)
    token = logins[-1]
    for login in logins[:-1]:
        table.add_row(login.role.value, login.email, login.password, login.binding)
    console.print(table)
    console.print(
        f"Sign in to the web app at http://{host}:{port}/ with an email and password above "
        f"(or POST them to http://{host}:{port}/api/v1/auth/login), "
        "or call the API with the owner's demo token:"
    )
    console.print(f"DEMO API TOKEN (owner): {token.password}", highlight=False, soft_wrap=True)
    console.print(
        f"  curl -H 'Authorization: Bearer {token.password}' http://{host}:{port}/api/v1/items",
        highlight=False,
        soft_wrap=True,
    )
