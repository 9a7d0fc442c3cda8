"""The replenishment policies the planner knows, and which of them hold a buffer."""

from __future__ import annotations

from typing import Final

POLICIES: Final = (
    "reorder_point",
    "min_max",
    "periodic",
    "kanban",
    "make_to_order",
    "buy_to_order",
)
"""The replenishment policies (docs/architecture.md, the JIT loop, step 3): (s, Q), (s, S),
(R, S), kanban, and no buffer."""

BUFFERED: Final = ("reorder_point", "min_max", "periodic")
"""Policies whose level is sized from a service target over a protection interval."""

NO_BUFFER: Final = ("make_to_order", "buy_to_order")
"""Policies that hold no stock: each customer order pulls its own supply."""
