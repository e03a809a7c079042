"""PostgreSQL connection pool for the booking service.

psycopg 3 blocks a whole eventlet process unless it waits with select():
``booking.service`` sets PSYCOPG_WAIT_FUNC before psycopg is first imported
(see STACK-NOTES). The pool hands out one connection per unit of work.
"""

from __future__ import annotations

import os

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool


def open_pool(database_url: str, max_size: int) -> ConnectionPool:
    pool = ConnectionPool(
        database_url,
        min_size=min(2, max_size),
        max_size=max_size,
        # Autocommit: a unit of work opens its own transaction when it needs one,
        # and single-statement writes skip BEGIN/COMMIT round trips.
        kwargs={"row_factory": dict_row, "autocommit": True},
        open=False,
        # Shorter than the gateway's RPC timeout (10 s): while PostgreSQL is
        # away a request fails with PoolTimeout, which the gateway answers 503.
        timeout=float(os.environ.get("ESCALE_BOOKING_DB_TIMEOUT", "5")),
        name="booking",
    )
    pool.open(wait=False)
    return pool
