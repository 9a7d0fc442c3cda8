"""Logs as JSON lines on stderr, each stamped with the id of the request it belongs to.

`configure(settings)` sets the root logger up once per server process (the uvicorn factory
calls it); uvicorn's own loggers pass their records to it too, so everything one process
writes has one shape. Each record is one line:

    {"time": "2026-11-30T23:45:01.234Z", "level": "INFO", "logger": "leanstock.access",
     "message": "GET /api/v1/items/{sku} 200", "request_id": "4f0c…", "pid": 4242,
     "method": "GET", ...}

Fields passed with `extra={...}` become keys of their own. `request_id` comes from the request
context (`domain.access.current()`), the id the response carries in `X-Request-ID` and the
audit rows in `request_id`. With `LEANSTOCK_LOG_FORMAT=text` the same records are plain lines.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from leanstock.config import Settings
from leanstock.domain.access import current

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
    "color_message",
}
_MARK = "_leanstock_handler"


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request's id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current().request_id
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record comes (not when it was made)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def handler(settings: Settings) -> logging.Handler:
    out = _Stderr()
    out.addFilter(RequestIdFilter())
    if settings.log_format == "json":
        out.setFormatter(JsonFormatter())
    else:
        out.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    setattr(out, _MARK, True)
    return out


def configure(settings: Settings) -> None:
    """Send every log record of this process through one handler in the configured format."""
    unconfigure()
    root = logging.getLogger()
    root.addHandler(handler(settings))
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def unconfigure() -> None:
    """Take the handler `configure` added off again (tests)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
