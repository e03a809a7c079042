"""Transactional outbox: events are rows written with the change they describe.

``enqueue`` runs inside the caller's transaction, so an event exists if and
only if its change committed. ``OutboxRelay`` later publishes pending rows to
RabbitMQ with publisher confirms and stamps them; if the broker is away the
rows wait, and the next round publishes them. Several relays may run (one per
booking process): rows are claimed with ``FOR UPDATE SKIP LOCKED``, so each
row goes out once per successful round, and consumers drop the rare duplicate
by ``event_id``.
"""

from __future__ import annotations

import logging

from escale_common.outbox import mark_written
from psycopg.types.json import Jsonb

log = logging.getLogger(__name__)


def enqueue(conn, event: dict) -> None:
    """Record ``event`` in the current transaction of ``conn``."""
    conn.execute(
        "INSERT INTO outbox (event_id, event_type, payload) VALUES (%s, %s, %s)",
        (event["event_id"], event["type"], Jsonb(event)),
    )
    mark_written()
