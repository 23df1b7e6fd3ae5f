"""One logging path for the CLI, the API, Dagster runs and workers.

Every module logs through the standard library (`logging.getLogger(__name__)`) or structlog
(`get_logger`); both go through the same structlog processors: context (request id, run id,
task id, bound with `bind_context`), level, UTC timestamp, secret redaction, then either a
console line or, with ANALISA_LOG_JSON=1, one JSON object per line.

Redaction drops the values of keys that name secrets (`token`, `secret`, `password`, ...),
masks credentials inside any text (bearer tokens, `access_token=...`, JSON fields, the token
shapes Instagram, Facebook and TikTok issue), and masks the exact secret values registered with
`register_secret` (the configured keys and client secrets).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog

REDACTED = "***"
_SECRET_KEY_WORDS = ("token", "secret", "password", "passwd", "authorization", "api_key", "apikey")
_SECRET_KEYS_EXACT = frozenset({"key", "code_verifier", "cookie", "set-cookie"})

# Credentials inside free text. Each pattern keeps its first group and masks the rest.
_TEXT_PATTERNS = (
    # Authorization: Bearer <token>
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/=]{8,}"),
    # query strings and forms: access_token=..., client_secret=..., code=..., ...
    re.compile(
        r"(?i)((?:access_token|refresh_token|client_secret|code_verifier|fb_exchange_token|"
        r"input_token|appsecret_proof|password)=)[^&\s'\"]+"
    ),
    # an OAuth authorization code in a callback URL
    re.compile(r"([?&#]code=)[^&\s'\"]+"),
    # JSON or repr fields: "access_token": "...", 'client_secret': '...'
    re.compile(
        r"(?i)([\"']?(?:access_token|refresh_token|client_secret|password|secret|token)"
        r"[\"']?\s*[:=]\s*[\"'])[^\"']+"
    ),
    # token shapes: Instagram (IGAA/IGQV...), Facebook (EAA...), TikTok (act./rft.)
    re.compile(r"()\b(?:IG[A-Z]{2}[A-Za-z0-9_\-]{16,}|EAA[A-Za-z0-9]{16,})"),
    re.compile(r"()\b(?:act|rft|clt)\.[A-Za-z0-9_\-.!*]{12,}"),
    # URLs with credentials: scheme://user:password@host
    re.compile(r"([a-z][a-z0-9+.\-]*://[^:/\s@]+:)[^@\s/]+(?=@)"),
)

_known_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask this exact value wherever it appears in a log line (values under 6 characters are
    too common to mask safely and are ignored)."""
    if value and len(value) >= 6:
        with _lock:
            _known_secrets.add(value)


def register_secrets(values: Iterable[str | None]) -> None:
    for value in values:
        register_secret(value)


def redact_text(text: str) -> str:
    """`text` with every credential this module recognises replaced by ***."""
    for secret in sorted(_known_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _TEXT_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def _secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in _SECRET_KEYS_EXACT or any(w in lowered for w in _SECRET_KEY_WORDS)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and _secret_key(k) else _redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v) for v in value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact_text(str(value))


def redact_event(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: nothing that looks like a credential leaves the process."""
    for key in list(event_dict):
        if key != "event" and _secret_key(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact_value(event_dict[key])
    return event_dict


def _shared_processors() -> list:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.format_exc_info,
        redact_event,
    ]


_QUIET_LIBRARIES = ("httpx", "httpcore", "pika", "uvicorn.access", "urllib3", "asyncio")


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at each record: a command that sends stderr to a log file
    for a while (the CLI during a pipeline run) must not leave logging holding that file."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it; sys.stderr wins
        pass


def configure_logging(
    level: str = "INFO", json_lines: bool = False, stream=None, secrets: Iterable[str] = ()
) -> None:
    """Route the standard library and structlog through one redacting renderer on `stream`
    (the current stderr by default). Safe to call again: the handler is replaced, not added."""
    register_secrets(secrets)
    colors = getattr(stream or sys.stderr, "isatty", lambda: False)()
    renderer = (
        structlog.processors.JSONRenderer(default=str)
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=colors)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream) if stream is not None else _CurrentStderr()
    handler.setFormatter(formatter)
    handler.set_name("analisa")
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() != "analisa"] + [handler]
    root.setLevel(level.upper())
    for noisy in _QUIET_LIBRARIES:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def logging_configured() -> bool:
    """Whether this process already routes logging through configure_logging."""
    return any(h.get_name() == "analisa" for h in logging.getLogger().handlers)


def configure_from_settings(settings: Any, *, level: str | None = None, stream=None) -> None:
    """configure_logging with the settings' level, format and secrets (so they are masked)."""
    secret_names = (
        "vault_key",
        "pseudonym_key",
        "jwt_secret",
        "instagram_client_secret",
        "tiktok_client_secret",
        "facebook_app_secret",
    )
    secrets = []
    for name in secret_names:
        value = getattr(settings, name, None)
        if value is not None:
            secrets.append(value.get_secret_value())
    # keys kept for rotation, comma-separated: each one is as secret as the current key
    for name in ("vault_previous_keys", "jwt_previous_secrets"):
        value = getattr(settings, name, None)
        if value is not None:
            secrets.extend(part.strip() for part in value.get_secret_value().split(","))
    for name in ("database_url", "redis_url", "amqp_url"):
        url = getattr(settings, name, None)
        password = _url_password(url)
        if password:
            secrets.append(password)
    configure_logging(
        level or settings.log_level, settings.log_json, stream=stream, secrets=secrets
    )


def _url_password(url: str | None) -> str | None:
    if not url:
        return None
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def get_logger(name: str | None = None):
    return structlog.get_logger(name)


def bind_context(**values: Any) -> None:
    """Attach values (request_id, run_id, task_id) to every line logged in this context."""
    structlog.contextvars.bind_contextvars(**values)


@contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """bind_context for the duration of a block, restoring what was bound before."""
    tokens = structlog.contextvars.bind_contextvars(**values)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
