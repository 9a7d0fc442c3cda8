"""Run a whole use case again when the database aborted it for a concurrent one."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from leanstock.domain.errors import Conflict
from leanstock.services.ports import RetryableConflict

P = ParamSpec("P")
R = TypeVar("R")

ATTEMPTS = 8


def retrying(function: Callable[P, R]) -> Callable[P, R]:
    """Retry on deadlocks and serialization failures with jittered exponential backoff.

    The use case runs in a fresh transaction each time, so a retry sees the other
    transaction's committed result and decides again; nothing is applied twice.
    """

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(ATTEMPTS):
            try:
                return function(*args, **kwargs)
            except RetryableConflict:
                time.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise Conflict("The database stayed too busy to finish this change; try again.")

    return wrapper
