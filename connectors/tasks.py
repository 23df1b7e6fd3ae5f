"""Collection tasks: what a collector worker is asked to do, and what it answers."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field, replace
from typing import Literal


@dataclass(frozen=True)
class CollectionTask:
    """Collect one account once: profile, listing pages, insights, audience, deletion probes."""

    platform: str
    account_id: str
    run_id: str
    attempt: int = 0
    """Sequence number of this task in its chain; waiting for a limit adds one too."""
    priority: int = 5
    task_id: str = field(default="")
    failures: int = 0
    """Attempts that failed (server, network, malformed): waiting for a limit never counts."""

    def __post_init__(self) -> None:
        if not self.task_id:
            object.__setattr__(
                self, "task_id", f"{self.run_id}:{self.platform}:{self.account_id}:a{self.attempt}"
            )

    @property
    def round_id(self) -> str:
        """One round for the whole chain of attempts: a retry resumes the listing where the
        previous attempt stopped (its checkpoint), so their pages form one listing together."""
        return f"{self.run_id}:{self.platform}:{self.account_id}"

    def next_attempt(self, failed: bool = True) -> CollectionTask:
        """The task that continues this one; `failed` False when it only waited for a limit."""
        return replace(
            self, attempt=self.attempt + 1, task_id="", failures=self.failures + int(failed)
        )

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> CollectionTask:
        data = json.loads(raw)
        return cls(**data)


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class Outcome:
    """What the handler decided: done (ack), retry after a delay, or park for a human."""

    kind: Literal["done", "retry", "park"]
    delay_seconds: float = 0.0
    reason: str = ""
    records: int = 0
    failed: bool = True
    """For a retry: whether it counts as a failure (waiting for a limit does not)."""
    replayed: bool = False
    """True when a redelivered task found its recorded outcome and did nothing again."""

    @classmethod
    def done(cls, records: int = 0, reason: str = "") -> Outcome:
        return cls("done", records=records, reason=reason)

    @classmethod
    def retry(
        cls, delay_seconds: float, reason: str, records: int = 0, failed: bool = True
    ) -> Outcome:
        return cls(
            "retry", delay_seconds=delay_seconds, reason=reason, records=records, failed=failed
        )

    @classmethod
    def wait(cls, delay_seconds: float, reason: str, records: int = 0) -> Outcome:
        """A retry that only waits for a limit: it never uses up an attempt."""
        return cls.retry(delay_seconds, reason, records, failed=False)

    @classmethod
    def park(cls, reason: str, records: int = 0) -> Outcome:
        return cls("park", reason=reason, records=records)
