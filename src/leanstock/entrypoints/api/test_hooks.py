"""Hooks that let the crash tests kill the server at the worst moments of a request.

Off unless the process runs with `LEANSTOCK_TEST_HOOKS=true`, which only tests set: then a
POST with an `Idempotency-Key` and a `Leanstock-Test-Hook` header does what the header says,
in the middle of its transaction (`entrypoints/api/idempotency.py`):

- `crash-before-commit`: the process dies (`os._exit`) after the work and before the commit;
- `crash-after-commit`: the process dies after the commit and before the reply;
- `sleep-before-commit:SECONDS`: the request holds its transaction that long before the
  commit (an in-flight request for the graceful-shutdown test).

Without the setting the header is ignored, so no client can crash or stall a real server.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import Scope

HEADER = "Leanstock-Test-Hook"
# The exit status of a process a hook killed: an abrupt death, not a clean stop.
CRASHED = 86


@dataclass(frozen=True)
class Hook:
    action: str
    seconds: float = 0.0


def hook(scope: Scope) -> Hook | None:
    """The hook this request asks for, when the process allows hooks."""
    settings = getattr(scope["app"].state, "settings", None)
    if settings is None or not settings.test_hooks:
        return None
    value = Headers(scope=scope).get(HEADER)
    if value is None:
        return None
    action, _, seconds = value.partition(":")
    return Hook(action, float(seconds) if seconds else 0.0)


def before_commit(hook: Hook | None) -> None:
    if hook is None:
        return
    if hook.action == "crash-before-commit":
        os._exit(CRASHED)
    if hook.action == "sleep-before-commit":
        print("leanstock test hook: sleeping", file=sys.stderr, flush=True)
        time.sleep(hook.seconds)


def after_commit(hook: Hook | None) -> None:
    if hook is not None and hook.action == "crash-after-commit":
        os._exit(CRASHED)
