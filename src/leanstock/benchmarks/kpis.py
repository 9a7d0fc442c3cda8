"""`leanstock bench kpis`: each KPI report on the demo business, the bar of issue #16 (1 s).

Loads the demo business (`leanstock demo`: about 200 items, a warehouse and two stores, two
years of history; `--quick`: a quarter of a year) into a temp SQLite file or a new PostgreSQL
schema (`--database sqlite|postgres`), or reads an existing SQLite file as it is
(`--database sqlite:///path/leanstock-demo.db`). Then times:

- `snapshot`: a rebuild of the monthly cost snapshot from every move
  (`services/kpi_snapshot.refresh_snapshot(force=True)`), as after a backdated move or a cost
  change; once; no bar (reports after ordinary moves do not wait for it);
- per grouping (company, category, location, item): `kpis(months=12)`
  - `fresh`: nothing recorded since the last report: one warm-up, then 3 runs;
  - `after_move`: each of 3 runs right after a stock receipt of one unit of a different item
    at the warehouse, so the report first extends the snapshot with that move;
  median, min and max wall seconds, and the median CPU seconds of this process (SQLite runs
  in it; on a shared machine the wall time includes waiting for a core). Each median must be
  under 1 s.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine

from leanstock.benchmarks import BenchOptions
from leanstock.benchmarks._http import fresh_database
from leanstock.domain.catalog import LocationKind
from leanstock.services import kpis, stock
from leanstock.services.kpi_snapshot import refresh_snapshot

BAR_SECONDS = 1.0
RUNS = 3


def _measure(url: str, figures: dict[str, object]) -> None:
    from leanstock.adapters.db.uow import UnitOfWork

    engine = create_engine(url)
    uow = UnitOfWork(engine)
    started, cpu = time.perf_counter(), time.process_time()
    refresh_snapshot(uow, datetime.now(UTC), force=True)
    figures["snapshot_s"] = round(time.perf_counter() - started, 3)
    figures["snapshot_cpu_s"] = round(time.process_time() - cpu, 3)
    with uow:
        figures["moves"] = uow.kpis.moves_mark()[1]
        skus = [
            str(r["sku"])
            for r in uow.kpis.items()
            if not uow.catalog.item(str(r["sku"])).value.lot_tracked
        ]
        warehouse = next(
            str(r["code"])
            for r in uow.kpis.locations()
            if LocationKind(r["kind"]) is LocationKind.WAREHOUSE
        )
    worst = 0.0
    moved = 0
    for group in kpis.GROUPS:
        kpis.kpis(uow, group_by=group)  # warm-up
        for case in ("fresh", "after_move"):
            walls, cpus = [], []
            for _ in range(RUNS):
                if case == "after_move":
                    sku = skus[moved % len(skus)]
                    moved += 1
                    stock.receive(uow, sku, warehouse, Decimal(1), unit_cost=Decimal("1.25"))
                started, cpu = time.perf_counter(), time.process_time()
                report = kpis.kpis(uow, group_by=group)
                walls.append(time.perf_counter() - started)
                cpus.append(time.process_time() - cpu)
            median = statistics.median(walls)
            worst = max(worst, median)
            name = f"{group}_{case}"
            figures[f"{name}_median_s"] = round(median, 3)
            figures[f"{name}_min_s"] = round(min(walls), 3)
            figures[f"{name}_max_s"] = round(max(walls), 3)
            figures[f"{name}_cpu_median_s"] = round(statistics.median(cpus), 3)
            print(
                f"kpis by {group}, {case.replace('_', ' ')}: median {median:.3f} s (min "
                f"{min(walls):.3f}, max {max(walls):.3f}; CPU {statistics.median(cpus):.3f}) for "
                f"{report.total} groups, bar {BAR_SECONDS} s",
                file=sys.stderr,
            )
        figures[f"{group}_groups"] = report.total
    figures["worst_median_s"] = round(worst, 3)
    figures["bar_s"] = BAR_SECONDS
    figures["meets_bar"] = worst < BAR_SECONDS
    engine.dispose()


def run(options: BenchOptions) -> dict[str, object]:
    figures: dict[str, object] = {"runs": RUNS, "quick": options.quick}
    choice = options.database
    if choice and choice.startswith("sqlite:///") and Path(choice[10:]).exists():
        figures["database"] = choice
        _measure(choice, figures)
    else:
        from leanstock.benchmarks.web import load_demo_business

        with fresh_database(choice) as (kind, url, _token):
            figures["database"] = kind
            started = time.perf_counter()
            engine = create_engine(url)
            load_demo_business(engine, options.quick)
            engine.dispose()
            figures["load_s"] = round(time.perf_counter() - started, 1)
            _measure(url, figures)
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    return figures
