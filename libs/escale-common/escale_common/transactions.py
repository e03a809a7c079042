"""Running a transaction again when PostgreSQL aborted it to break a cycle.

A deadlock or a serialisation failure is PostgreSQL choosing a victim, not
an error in the request: the documented answer is to run the whole
transaction again. Only work that is safe to repeat (it starts its own
transaction and either commits all of it or nothing) is wrapped.
"""

from __future__ import annotations

import logging

from psycopg import errors
from tenacity import (before_sleep_log, retry, retry_if_exception_type, stop_after_attempt,
                      wait_random_exponential)

log = logging.getLogger(__name__)

ABORTED_TO_BREAK_A_CYCLE = (errors.DeadlockDetected, errors.SerializationFailure)

retry_aborted = retry(
    retry=retry_if_exception_type(ABORTED_TO_BREAK_A_CYCLE),
    # Random waits, so that the two sides of the cycle do not meet again.
    wait=wait_random_exponential(multiplier=0.02, max=0.5),
    stop=stop_after_attempt(5),
    before_sleep=before_sleep_log(log, logging.WARNING),
    reraise=True,
)
"""Decorator: run the function again (up to 5 times in all) when its
transaction was chosen as a deadlock or serialisation victim."""
