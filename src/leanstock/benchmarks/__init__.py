"""Benchmarks that `leanstock bench NAME` runs.

Each module `NAME.py` here defines `run(options: BenchOptions) -> dict[str, object]`; it
generates its own data at realistic scale (smaller with `options.quick`), may print progress,
and returns its figures, which the CLI prints as the last line, one JSON object.
They live inside the package (not a top-level `benchmarks/` folder) so that an installed
`leanstock` can run them.
"""

from __future__ import annotations

import resource
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class BenchOptions:
    quick: bool = False
    data: str | None = None
    database: str | None = None
    thorough: bool = False
    engine: str = "local"
    scheduler: str | None = None
    catalog_target: bool = False
    batch: bool = False


def peak_memory_mb() -> float:
    """Peak resident set size of this process (and waited-for children), in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    per_mib = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return round(max(own, children) / per_mib, 1)
