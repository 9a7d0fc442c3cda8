"""`leanstock bench NAME`: run one benchmark and print its figures as a last JSON line."""

from __future__ import annotations

import importlib
import json
import pkgutil
from typing import Annotated

import typer

from leanstock.entrypoints.cli.app import app, err_console


def _available() -> list[str]:
    """Benchmark names: the modules of `leanstock.benchmarks`, with `-` for `_` (what-if)."""
    from leanstock import benchmarks

    return sorted(
        m.name.replace("_", "-")
        for m in pkgutil.iter_modules(benchmarks.__path__)
        if not m.ispkg and not m.name.startswith("_")
    )


@app.command()
def bench(
    name: Annotated[str, typer.Argument(help="Benchmark to run (ledger, orders, forecast, ...).")],
    quick: Annotated[bool, typer.Option(help="Small data, for CI.")] = False,
    data: Annotated[
        str | None,
        typer.Option(
            help="A real data set instead of generated data (carparts, m1; carparts-validation "
            "and m1-validation: their training part only, its last months held out; "
            "-validation-early: the same one holdout length earlier)."
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(help="sqlite, postgres, or a SQLAlchemy URL; benchmarks that touch one."),
    ] = None,
    thorough: Annotated[bool, typer.Option(help="Include slow model families.")] = False,
    engine: Annotated[str, typer.Option(help="local or dask.")] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address.")] = None,
    catalog_target: Annotated[
        bool,
        typer.Option("--catalog-target", help="policy: one fill-rate target for the catalogue."),
    ] = False,
    batch: Annotated[
        bool, typer.Option("--batch", help="ledger: post batches of 100 documents.")
    ] = False,
) -> None:
    """Run benchmark NAME; its last output line is one JSON object of figures."""
    from leanstock.benchmarks import BenchOptions

    names = _available()
    if name not in names:
        err_console.print(f"[red]Unknown benchmark {name!r}.[/] Available: {', '.join(names)}")
        raise typer.Exit(2)
    module = importlib.import_module(f"leanstock.benchmarks.{name.replace('-', '_')}")
    options = BenchOptions(
        quick=quick,
        data=data,
        database=database,
        thorough=thorough,
        engine=engine,
        scheduler=scheduler,
        catalog_target=catalog_target,
        batch=batch,
    )
    figures = module.run(options)
    print(json.dumps(figures, default=str))
