"""Structured logs (结构化日志) and the request id that ties a request to the background work it causes.

Every log record is one JSON object (python-json-logger, encoded by msgspec) carrying `request_id` and `tenant` when
known.  A request id comes from the client's `X-Request-ID` header when it is well-formed, else it
is generated; the outbox stores it with each message and the actor that applies the message runs
with the same id, so one grep follows a submission from the web process into the worker.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar

from pythonjsonlogger.msgspec import MsgspecFormatter

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
log_tenant: ContextVar[str | None] = ContextVar("log_tenant", default=None)

REQUEST_ID_KEY = "_request_id"  # the outbox payload key that carries the id into a job
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_configured = False


def new_request_id(offered: str | None = None) -> str:
    """The client's id if it is safe to log and echo, else a fresh one."""
    if offered and _VALID_ID.match(offered):
        return offered
    return uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Adds the current request id and tenant to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        if not hasattr(record, "tenant"):
            record.tenant = log_tenant.get()
        return True


def configure_logging(fmt: str = "json", level: str = "INFO", force: bool = False) -> None:
    """Send the `qinqing` loggers (and uvicorn's errors) to stderr, as JSON or as plain text."""
    global _configured
    if _configured and not force:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    if fmt == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    else:
        # msgspec's encoder: the access line every request writes costs about a third less.
        handler.setFormatter(MsgspecFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(tenant)s",
                                              rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    for name in ("qinqing", "uvicorn.error", "dramatiq"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    _configured = True
