"""`leanstock forecast`: demand forecasts per item(-location) with quantiles.

`--history FILE` is the file mode: no database, a CSV in and a CSV out. Without it, the
history is read from the database (sales order lines, demand at order time) and the run is
stored with its accuracy, for the planner and the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leanstock.entrypoints.cli.app import app, console, err_console, handled, open_engine

if TYPE_CHECKING:
    import polars as pl
    from rich.progress import Progress, TaskID

    from leanstock.planning.forecast import ForecastResult


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]{escape(message)}[/]", highlight=False, soft_wrap=True)
    return typer.Exit(2)


@app.command("forecast")
def forecast_command(
    horizon: Annotated[int, typer.Option(help="Periods to forecast.")],
    history: Annotated[
        Path | None,
        typer.Option(help="CSV with item, ds, qty (and location, stockout): file mode."),
    ] = None,
    freq: Annotated[str, typer.Option(help="D (daily), W (weekly) or M (monthly).")] = "D",
    out: Annotated[
        Path | None, typer.Option(help="Where file mode writes the forecast CSV.")
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(
            help="CSV calendar: name, start, end, and optionally items and categories "
            "(separated by ;) and uplift."
        ),
    ] = None,
    engine: Annotated[str, typer.Option(help="local or dask.")] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address.")] = None,
    thorough: Annotated[
        bool,
        typer.Option(help="Full pool, with ARIMA, for every smooth and erratic series (slow)."),
    ] = False,
) -> None:
    """Forecast demand per item(-location), with quantiles, choosing models by backtest."""
    import polars as pl

    from leanstock.planning.forecast import ForecastInputError
    from leanstock.planning.forecast.prepare import check_freq, check_horizon

    if history is None:
        if out is not None or events is not None:
            raise _fail(
                "--out and --events belong to the file mode (--history); the database mode "
                "stores the run and reads the event calendar from the database."
            )
        _database_run(horizon, freq, engine, scheduler, thorough)
        return
    if out is None:
        raise _fail("Pass --out FORECAST.csv: where to write the forecast.")
    try:
        check_freq(freq)
        check_horizon(horizon)
    except ForecastInputError as exc:
        raise _fail(str(exc)) from None
    frame = _read_csv(history, "history", {"item": pl.String, "location": pl.String})
    calendar = None
    if events is not None:
        calendar = _read_csv(
            events,
            "event calendar",
            {"name": pl.String, "items": pl.String, "categories": pl.String},
        )
        calendar = calendar.with_columns(
            [pl.col(c).str.split(";") for c in ("items", "categories") if c in calendar.columns]
        )
    try:
        result = _run(frame, horizon, freq, calendar, engine, scheduler, thorough)
    except ForecastInputError as exc:
        raise _fail(f"{history}: {exc}") from None
    keys = [k for k in ("item", "location") if k in result.forecast.columns]
    columns = [*keys, "ds", "forecast", *[c for c in result.forecast.columns if c.startswith("q")]]
    try:
        result.forecast.select(columns).write_csv(out)
    except OSError as exc:
        raise _fail(f"Cannot write {out}: {exc.strerror or exc}") from None
    console.print(_summary(result))
    console.print(f"Wrote {result.forecast.height:,} rows to {out}.")


def _database_run(
    horizon: int, freq: str, engine: str, scheduler: str | None, thorough: bool
) -> None:
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.services import forecasting

    with handled(), _bar() as (bar, task):

        def report(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        run = forecasting.run_forecast(
            UnitOfWork(open_engine()),
            horizon,
            freq.upper(),
            engine=engine,
            scheduler=scheduler,
            thorough=thorough,
            progress=report,
        )
    table = Table(title=f"Forecast run {run.id}: {run.series} series, {run.horizon} x {run.freq}")
    for name in ("model", "series", "MASE", "RMSSE", "WAPE", "bias", "cover q90", "cover q95"):
        table.add_column(name, justify="left" if name == "model" else "right")
    for row in run.accuracy.get("models", []):
        table.add_row(
            str(row.get("model")),
            str(row.get("series", "")),
            *(_figure(row.get(k)) for k in ("mase", "rmsse", "wape", "bias")),
            *(_figure(row.get(k)) for k in ("coverage_q90", "coverage_q95")),
        )
    console.print(table)
    console.print(
        f"History {run.history_from} to {run.history_to}; {run.wall_seconds:.1f} s. "
        f"See one item with [bold]GET /api/v1/items/SKU/forecast[/]; plan with "
        "[bold]leanstock plan[/]."
    )


def _figure(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "" if value is None else str(value)


@contextmanager
def _bar() -> Iterator[tuple[Progress, TaskID]]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        yield bar, bar.add_task("forecast", total=1)


def _read_csv(path: Path, what: str, schema: dict[str, type[pl.DataType]]) -> pl.DataFrame:
    import polars as pl

    if not path.is_file():
        raise _fail(f"No {what} file at {path}.")
    try:
        header = pl.read_csv(path, n_rows=0).columns
        overrides = {c: t for c, t in schema.items() if c in header}
        return pl.read_csv(path, schema_overrides=overrides, try_parse_dates=False)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _fail(f"Cannot read the {what} {path}: {first}") from None


def _run(
    frame: pl.DataFrame,
    horizon: int,
    freq: str,
    calendar: pl.DataFrame | None,
    engine: str,
    scheduler: str | None,
    thorough: bool,
) -> ForecastResult:
    from leanstock.planning.forecast import forecast

    with _bar() as (bar, task):

        def report(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        return forecast(
            frame,
            horizon,
            freq,
            events=calendar,
            engine=engine,
            scheduler=scheduler,
            thorough=thorough,
            progress=report,
        )


def _summary(result: ForecastResult) -> Table:
    """Series per demand class, the model most of them use, and its backtest accuracy."""
    import polars as pl

    keys = [k for k in ("item", "location") if k in result.selection.columns]
    scored = result.accuracy.filter(pl.col("model") == "selected").select(*keys, "mase", "rmsse")
    rows = (
        result.selection.join(scored, on=keys, how="left")
        .group_by("demand_class")
        .agg(
            pl.len().alias("series"),
            pl.col("model").mode().first().alias("model"),
            pl.col("mase").mean(),
            pl.col("rmsse").mean(),
        )
        .sort("series", descending=True)
    )
    table = Table(title="Forecast by demand class (backtest accuracy)")
    for name in ("class", "series", "usual model", "MASE", "RMSSE"):
        table.add_column(name, justify="left" if name in ("class", "usual model") else "right")
    for row in rows.iter_rows(named=True):
        table.add_row(
            row["demand_class"],
            f"{row['series']:,}",
            row["model"],
            "—" if row["mase"] is None else f"{row['mase']:.3f}",
            "—" if row["rmsse"] is None else f"{row['rmsse']:.3f}",
        )
    return table
