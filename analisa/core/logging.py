"""structlog setup: human-readable in a terminal, JSON lines when ANALISA_LOG_JSON=1.

A processor drops values of keys that name secrets, so a token passed to a logger by mistake
does not reach the log.
"""

from __future__ import annotations

import logging
import sys

import structlog

_SECRET_WORDS = ("token", "secret", "password", "authorization", "key")


def _redact(_, __, event_dict):
    for k in list(event_dict):
        if k != "event" and any(w in k.lower() for w in _SECRET_WORDS):
            event_dict[k] = "***"
    return event_dict


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper())
    for noisy in ("httpx", "httpcore", "pika", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    renderer = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None):
    return structlog.get_logger(name)
