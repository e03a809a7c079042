"""PostgreSQL connection pool of the presence service.

psycopg 3 blocks a whole eventlet process unless it waits with select():
``presence.service`` sets PSYCOPG_WAIT_FUNC before psycopg is first imported
(see STACK-NOTES).
"""

from __future__ import annotations

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool


def open_pool(database_url: str, max_size: int) -> ConnectionPool:
    pool = ConnectionPool(
        database_url,
        min_size=min(2, max_size),
        max_size=max_size,
        kwargs={"row_factory": dict_row, "autocommit": True},
        open=False,
        timeout=10,
        name="presence",
    )
    pool.open(wait=False)
    return pool
