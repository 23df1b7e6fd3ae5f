"""The one wall clock of the project, injectable where a test must move time.

Gold never reads it (windows are measured from capture times); it stamps what we receive.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Now, timezone-aware in UTC."""
    return datetime.now(UTC)
