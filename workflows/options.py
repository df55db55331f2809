"""Activity options shared by the workflows: timeouts and retry policies in one place."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig, LocalActivityConfig

# Register writes and payments are idempotent: retry until the database answers.
UNTIL_DONE = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)

REGISTER_OPTIONS: ActivityConfig = {
    # Short database writes: a worker that dies mid-write is noticed after 10 s, not 30.
    "start_to_close_timeout": timedelta(seconds=10),
    "retry_policy": UNTIL_DONE,
}

# Register writes and deadline arithmetic run as local activities: they are quick and idempotent, and a
# local activity costs one marker event instead of a round trip through the server's task queue. This
# roughly halves the events and server work per state change.
LOCAL_OPTIONS: LocalActivityConfig = {
    "start_to_close_timeout": timedelta(seconds=10),
    "retry_policy": UNTIL_DONE,
}

# The push to a department, as a local activity: one that answers within seconds costs one marker instead of a
# round trip through the server; one that is down is retried on the worker (longer waits become timers) and,
# after 10 attempts, handed to a person instead of retried forever. The 9 waits between them (2 s doubling:
# 2 + 4 + … + 512; the 10-minute cap is never reached) add up to 1022 s, about 17 minutes; with every attempt
# running into its 30 s timeout, about 22 minutes.
PUSH_LOCAL_OPTIONS: LocalActivityConfig = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=2),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=10),
        maximum_attempts=10,
    ),
}

# The case's check of a matter with the engine: short, and given up after a few attempts (the case checks again
# later) so that a workflow task never waits long on it.
STANDING_OPTIONS: LocalActivityConfig = {
    "start_to_close_timeout": timedelta(seconds=10),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3),
}
