"""``escale retention run``: the nightly retention jobs, at once, from the
operator's side (a cron job instead of the services' timers, or a check
after changing the periods).

The same use cases as the services' timers, on connections opened here:
booking's bookings and event logs, notify's finished messages, the
gateway's audit log, each with the cut-offs of ``docs/privacy.md``.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TextIO

import psycopg
from psycopg.rows import dict_row

from .settings import Settings


class _Connections:
    """What the services' stores expect of a pool: ``connection()``."""

    def __init__(self, url: str):
        self.url = url

    @contextmanager
    def connection(self, timeout=None):
        with psycopg.connect(self.url, row_factory=dict_row, autocommit=True) as conn:
            yield conn


def run(settings: Settings, out: TextIO, now: datetime | None = None) -> dict:
    from booking import personal_data as booking_data
    from booking.adapters.store import BookingStore
    from notify import personal_data as notify_data
    from notify.adapters.store import NotifyStore

    now = now or datetime.now(timezone.utc)
    booking_store = BookingStore(_Connections(settings.booking_database_url))
    results = {"booking": booking_data.run_retention(booking_store, now, force=True)}
    cutoffs = {k: datetime.fromisoformat(v)
               for k, v in booking_data.retention_cutoffs(booking_store, now).items()}
    results["notify"] = notify_data.run_retention(
        NotifyStore(_Connections(settings.notify_database_url)), now, cutoffs["notification_log"],
        force=True)
    with psycopg.connect(settings.gateway_database_url, autocommit=True) as conn:
        audit = conn.execute("DELETE FROM audit_log WHERE at < %s", (cutoffs["audit_log"],)).rowcount
    results["gateway"] = {"ran": True, "audit_log": audit}
    for part, counts in results.items():
        done = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "ran")
        print(f"{part}: deleted {done}", file=out)
    return results
