"""Log set-up: structlog events through stdlib logging, secrets dropped.

Only the entry points (the CLI) call `configure`; library code just asks for
`structlog.get_logger(__name__)` and logs a fixed event with fields.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

SECRET_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "client_secret",
        "code",
        "authorization",
        "api_key",
        "password",
        "secret",
        "token",
    }
)
REDACTED = "[redacted]"


def redact(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Blank every field whose name says it holds a secret."""
    for key in list(event):
        if key.lower() in SECRET_KEYS:
            event[key] = REDACTED
    return event


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to the standard error of the moment a record comes, not of the
    moment logging was configured: a test runner or an embedding program may
    swap `sys.stderr`, and a stream bound once would be closed by then."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # `handle` holds the handler's lock here
        super().emit(record)


def configure(level: str = "INFO", fmt: str = "console") -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        # Below the level an event is dropped first, before it is stamped
        # and redacted: the client logs every Exact call at INFO.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic narrates every schema check at INFO; the CLI says what changed.
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
    # httpx2 logs every request at INFO; the Exact client already writes one
    # line per call with the division, status, time and calls left.
    logging.getLogger("httpx2").setLevel(max(root.level, logging.WARNING))
