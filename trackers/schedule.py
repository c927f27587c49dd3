"""When to poll a source next, and what its health becomes after an attempt. Pure: outcome and `now` in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random
from typing import Literal

OutcomeStatus = Literal["ok", "not_modified", "error", "gone"]

BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_CAP = timedelta(days=1)
LONGEST_WAIT = timedelta(days=7)  # a Retry-After or max-age beyond this is treated as this


@dataclass(frozen=True)
class Outcome:
    """What one attempt at a source came to."""

    status: OutcomeStatus
    error: str | None = None
    retry_after: float | None = None
    max_age: float | None = None
    rate_limited: bool = False  # a 429 or 503 that said when to come back


@dataclass(frozen=True)
class Decision:
    """The source's health after the attempt, and when to try it next (None: not until a person acts)."""

    status: str
    consecutive_failures: int
    next_due_at: datetime | None
    paused_now: bool = False


def decide(
    outcome: Outcome, *, failures_before: int, now: datetime, interval: timedelta, max_failures: int, rng: Random
) -> Decision:
    """Success resets failures and waits the interval (longer if the server says so); failure backs off.

    A rate limit with a Retry-After waits as long as the server asks, without counting as a failure.
    """
    server_wait = _capped(max(outcome.retry_after or 0.0, 0.0))
    if outcome.status in ("ok", "not_modified"):
        fresh_for = _capped(outcome.max_age or 0.0)
        return Decision(outcome.status, 0, now + max(interval, fresh_for, server_wait))
    if outcome.status == "gone":
        return Decision("disabled", failures_before + 1, None)
    if outcome.rate_limited and outcome.retry_after is not None:
        # The server is up and said when to come back (RFC 9110 §10.2.3): no failure, no pause.
        return Decision("error", failures_before, now + server_wait)
    failures = failures_before + 1
    if failures >= max_failures:  # the operator is told once, when the source crosses the limit
        return Decision("paused", failures, None, paused_now=failures_before < max_failures)
    return Decision("error", failures, now + max(backoff(failures, rng), server_wait))


def backoff(failures: int, rng: Random) -> timedelta:
    """Exponential backoff with jitter: 5 min × 2^(n−1), capped at a day, then scaled by 0.5–1.0."""
    delay = min(BACKOFF_BASE * (1 << min(failures - 1, 20)), BACKOFF_CAP)
    factor: float = rng.uniform(0.5, 1.0)
    return delay * factor


def _capped(seconds: float) -> timedelta:
    return min(timedelta(seconds=seconds), LONGEST_WAIT)


def is_due(next_due_at: datetime | None, status: str, now: datetime) -> bool:
    """Whether a source should be polled now: never polled, or its time has come, and not paused/disabled."""
    if status in ("paused", "disabled"):
        return False
    return next_due_at is None or next_due_at <= now
