"""Timeouts and retries of the lead workflow's activity calls."""

from datetime import timedelta

from temporalio.common import RetryPolicy

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# Activities heartbeat every 2 s: a worker killed inside one is noticed within this, and the
# attempt runs again elsewhere instead of waiting out ACTIVITY_TIMEOUT.
ACTIVITY_HEARTBEAT = timedelta(seconds=5)
# Infrastructure errors (database down, worker gone) retry for as long as they last; business
# refusals are non-retryable ApplicationErrors and end the call at once.
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=0,
)
