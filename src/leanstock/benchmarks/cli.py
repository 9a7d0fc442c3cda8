"""`leanstock bench cli`: how fast the command line answers.

Runs `leanstock --help` and two read commands (`stock --sku`, `items`) as fresh processes, as a
person would, on a small SQLite database made for the run; `--quick`: 3 runs each, else 11,
after one warm-up run. Reports per command the median, min and max wall seconds and the median
CPU seconds (user + system of the child process, which a busy machine inflates less than wall
time). The bars of issue #9: `--help` under 0.3 s, a read command under 1 s.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from leanstock.benchmarks import BenchOptions

BARS = {"help": 0.3, "stock": 1.0, "items": 1.0}


def leanstock_command() -> list[str]:
    """The installed `leanstock` script beside this Python, else the module."""
    script = Path(sys.executable).with_name("leanstock")
    return [str(script)] if script.exists() else [sys.executable, "-m", "leanstock.entrypoints.cli"]


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `command`, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run(options: BenchOptions) -> dict[str, object]:
    runs = 3 if options.quick else 11
    leanstock = leanstock_command()
    figures: dict[str, object] = {"runs": runs, "command": " ".join(leanstock)}
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "LEANSTOCK_DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.db'}",
            "COLUMNS": "120",
        }
        for setup in (
            ["init"],
            ["add-location", "WH", "Warehouse"],
            ["add-item", "BEANS", "Coffee beans", "--unit", "kg"],
            ["receive", "BEANS", "WH", "12.5"],
        ):
            subprocess.run([*leanstock, *setup], env=env, check=True, stdout=subprocess.DEVNULL)
        commands = {"help": ["--help"], "stock": ["stock", "--sku", "BEANS"], "items": ["items"]}
        for name, args in commands.items():
            timed([*leanstock, *args], env)  # warm-up: bytecode caches, page cache
            walls, cpus = zip(*(timed([*leanstock, *args], env) for _ in range(runs)), strict=True)
            median = statistics.median(walls)
            figures[f"{name}_median_s"] = round(median, 3)
            figures[f"{name}_min_s"] = round(min(walls), 3)
            figures[f"{name}_max_s"] = round(max(walls), 3)
            figures[f"{name}_cpu_median_s"] = round(statistics.median(cpus), 3)
            figures[f"{name}_bar_s"] = BARS[name]
            print(
                f"leanstock {' '.join(args)}: median {median:.3f} s "
                f"(min {min(walls):.3f}, max {max(walls):.3f}; CPU {statistics.median(cpus):.3f} s)"
                f", bar {BARS[name]} s",
                file=sys.stderr,
            )
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    return figures
