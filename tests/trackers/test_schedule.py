from datetime import UTC, datetime, timedelta
from random import Random

from trackers.schedule import Outcome, backoff, decide, is_due

NOW = datetime(2026, 11, 10, tzinfo=UTC)
HOURS_6 = timedelta(hours=6)


def run(outcome, failures=0, max_failures=10):
    return decide(
        outcome, failures_before=failures, now=NOW, interval=HOURS_6, max_failures=max_failures, rng=Random(1)
    )


def test_success_waits_the_interval_or_longer_when_the_server_says_so():
    assert run(Outcome("ok")).next_due_at == NOW + HOURS_6
    assert run(Outcome("not_modified", max_age=86400)).next_due_at == NOW + timedelta(days=1)
    assert run(Outcome("ok", max_age=10**9)).next_due_at == NOW + timedelta(days=7)  # capped
    assert run(Outcome("ok"), failures=4).consecutive_failures == 0


def test_failures_back_off_exponentially_with_jitter_and_honour_retry_after():
    delays = [backoff(n, Random(n)) for n in range(1, 12)]
    assert all(timedelta(minutes=2.5) * 2 ** (n - 1) <= d or d >= timedelta(hours=12) for n, d in enumerate(delays, 1))
    assert max(delays) <= timedelta(days=1)
    assert run(Outcome("error", "x", retry_after=7200)).next_due_at >= NOW + timedelta(hours=2)


def test_gone_disables_and_too_many_failures_pause_once():
    assert run(Outcome("gone", "HTTP 410")).status == "disabled"
    crossing = run(Outcome("error", "x"), failures=9)
    assert (crossing.status, crossing.paused_now, crossing.next_due_at) == ("paused", True, None)
    assert run(Outcome("error", "x"), failures=12).paused_now is False
    assert not is_due(None, "paused", NOW) and not is_due(None, "disabled", NOW)
    assert is_due(None, "never", NOW) and is_due(NOW, "error", NOW) and not is_due(NOW + HOURS_6, "ok", NOW)


def test_a_rate_limit_with_a_time_to_come_back_waits_that_long_without_counting_a_failure():
    limited = Outcome("error", "HTTP 429 Too Many Requests", retry_after=7200, rate_limited=True)
    decision = run(limited, failures=9)
    assert (decision.status, decision.consecutive_failures, decision.paused_now) == ("error", 9, False)
    assert decision.next_due_at == NOW + timedelta(hours=2)
    assert run(Outcome("error", "HTTP 429 Too Many Requests", rate_limited=True), failures=9).status == "paused"
