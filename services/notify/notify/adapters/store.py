"""The notify store: PostgreSQL behind a narrow interface.

``Unit`` is one transaction: recording what an event causes (messages and
scheduled reminders) commits together, and claiming due reminders with
``FOR UPDATE SKIP LOCKED`` makes each one fire in exactly one process even
with several replicas. Messages are leased (``lease_until``) rather than
held in a transaction while SMTP or chat is called: a process that dies
mid-send leaves the lease to expire and another process retries.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator

from psycopg.types.json import Jsonb

from ..domain import errors
from ..domain.planning import Planned
from ..domain.preferences import Preferences

DELIVERY_COLUMNS = (
    "id::text, event_id::text, channel, kind, person_id::text, booking_id::text, message, "
    "status, attempts, next_attempt_at, expires_at, last_error, created_at, sent_at, dead_at, "
    "replays"
)


def _plain(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


class Unit:
    """One transaction on one connection."""

    def __init__(self, conn):
        self.conn = conn

    def _one(self, query, params=()):
        return self.conn.execute(query, params).fetchone()

    def _all(self, query, params=()):
        return self.conn.execute(query, params).fetchall()

    # -- the ledger ------------------------------------------------------------
    def record(self, planned: list[Planned]) -> int:
        """Insert messages not yet in the ledger; returns how many were new."""
        new = 0
        for p in planned:
            row = self._one(
                "INSERT INTO delivery (id, event_id, channel, kind, person_id, booking_id, message, "
                "status, next_attempt_at, expires_at, last_error) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (event_id, channel) DO NOTHING RETURNING id",
                (str(uuid.uuid4()), p.event_id, p.channel, p.kind, p.person_id, p.booking_id,
                 Jsonb(p.message), p.status, p.next_attempt_at, p.expires_at, p.reason),
            )
            new += row is not None
        return new

    # -- reminders and warnings ----------------------------------------------------
    def schedule(self, booking_id: str, kind: str, due_at: datetime, payload: dict) -> None:
        """Wait for ``due_at``, unless this booking's ``kind`` was already cancelled or done."""
        self.conn.execute(
            "INSERT INTO scheduled (booking_id, kind, due_at, status, event) "
            "VALUES (%s, %s, %s, 'waiting', %s) ON CONFLICT (booking_id, kind) DO UPDATE "
            "SET due_at = EXCLUDED.due_at, event = EXCLUDED.event "
            "WHERE scheduled.status = 'waiting'",
            (booking_id, kind, due_at, Jsonb(payload)),
        )

    def cancel_scheduled(self, booking_id: str, kinds: tuple[str, ...]) -> None:
        """Stop waiting; recorded even if the scheduling event has not arrived yet."""
        for kind in kinds:
            self.conn.execute(
                "INSERT INTO scheduled (booking_id, kind, status) VALUES (%s, %s, 'cancelled') "
                "ON CONFLICT (booking_id, kind) DO UPDATE SET status = 'cancelled' "
                "WHERE scheduled.status = 'waiting'",
                (booking_id, kind),
            )

    def claim_scheduled(self, now: datetime, limit: int) -> list[dict]:
        return self._all(
            "SELECT booking_id::text, kind, due_at, event FROM scheduled "
            "WHERE status = 'waiting' AND due_at <= %s ORDER BY due_at LIMIT %s "
            "FOR UPDATE SKIP LOCKED",
            (now, limit),
        )

    def finish_scheduled(self, booking_id: str, kind: str) -> None:
        self.conn.execute("UPDATE scheduled SET status = 'done' WHERE booking_id = %s AND kind = %s",
                          (booking_id, kind))

    def postpone_scheduled(self, booking_id: str, kind: str, due_at: datetime) -> None:
        self.conn.execute("UPDATE scheduled SET due_at = %s WHERE booking_id = %s AND kind = %s",
                          (due_at, booking_id, kind))

    # -- preferences --------------------------------------------------------------------
    def preferences_row(self, person_id: str | None) -> dict | None:
        if not person_id:
            return None
        return self._one(
            "SELECT channels, reminder, quiet_start, quiet_end, timezone FROM preference "
            "WHERE person_id = %s", (person_id,))


class NotifyStore:
    def __init__(self, pool):
        self.pool = pool

    @contextmanager
    def unit(self) -> Iterator[Unit]:
        with self.pool.connection() as conn:
            with conn.transaction():
                yield Unit(conn)

    def ping(self) -> None:
        with self.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")

    def _one(self, query, params=()):
        with self.pool.connection() as conn:
            return conn.execute(query, params).fetchone()

    def _all(self, query, params=()):
        with self.pool.connection() as conn:
            return conn.execute(query, params).fetchall()

    # -- sending -------------------------------------------------------------------------
    def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[dict]:
        """Lease up to ``limit`` messages due now; no other process gets them meanwhile."""
        return self._all(
            f"UPDATE delivery SET lease_until = %s WHERE id IN ("
            "  SELECT id FROM delivery WHERE status = 'pending' AND next_attempt_at <= %s "
            "  AND (lease_until IS NULL OR lease_until < %s) "
            "  ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED) "
            f"RETURNING {DELIVERY_COLUMNS}",
            (now + lease, now, now, limit),
        )

    def mark_sent(self, delivery_id: str, now: datetime) -> None:
        self._one("UPDATE delivery SET status = 'sent', sent_at = %s, lease_until = NULL, "
                  "attempts = attempts + 1, last_error = NULL WHERE id = %s RETURNING id",
                  (now, delivery_id))

    def mark_skipped(self, delivery_id: str, reason: str) -> None:
        self._one("UPDATE delivery SET status = 'skipped', lease_until = NULL, last_error = %s "
                  "WHERE id = %s RETURNING id", (reason, delivery_id))

    def mark_failed(self, delivery_id: str, error: str, retry_at: datetime | None,
                    now: datetime) -> None:
        """One more failed attempt: retry at ``retry_at``, or dead-letter it (None)."""
        if retry_at is None:
            self._one("UPDATE delivery SET status = 'dead', dead_at = %s, lease_until = NULL, "
                      "attempts = attempts + 1, last_error = %s WHERE id = %s RETURNING id",
                      (now, error[:500], delivery_id))
        else:
            self._one("UPDATE delivery SET next_attempt_at = %s, lease_until = NULL, "
                      "attempts = attempts + 1, last_error = %s WHERE id = %s RETURNING id",
                      (retry_at, error[:500], delivery_id))

    # -- dead letters ------------------------------------------------------------------------
    def dead_letters(self, limit: int, after: str | None) -> list[dict]:
        rows = self._all(
            "SELECT id::text, event_id::text, channel, kind, person_id::text, booking_id::text, "
            "attempts, last_error, created_at, dead_at, replays FROM delivery "
            "WHERE status = 'dead' AND (%s::uuid IS NULL OR id > %s::uuid) ORDER BY id LIMIT %s",
            (after, after, limit),
        )
        return [_plain(r) for r in rows]

    def replay(self, ids: list[str] | None, now: datetime) -> int:
        """Put dead letters (``ids``, or all of them) back in line, with fresh attempts."""
        query = ("UPDATE delivery SET status = 'pending', attempts = 0, next_attempt_at = %s, "
                 "lease_until = NULL, dead_at = NULL, replays = replays + 1 WHERE status = 'dead'")
        params: tuple = (now,)
        if ids is not None:
            query += " AND id = ANY(%s::uuid[])"
            params += (ids,)
        with self.pool.connection() as conn:
            return conn.execute(query, params).rowcount

    def delivery(self, delivery_id: str) -> dict:
        row = self._one(f"SELECT {DELIVERY_COLUMNS} FROM delivery WHERE id = %s", (delivery_id,))
        if row is None:
            raise errors.NotFound("no_such_message", field="id")
        return _plain(row)

    def counts(self) -> dict[str, int]:
        rows = self._all("SELECT status, count(*) AS n FROM delivery GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    def purge(self, before: datetime) -> int:
        """Forget messages (and their personal data) finished before ``before``."""
        with self.pool.connection() as conn:
            n = conn.execute("DELETE FROM delivery WHERE status IN ('sent', 'skipped') "
                             "AND created_at < %s", (before,)).rowcount
            conn.execute("DELETE FROM scheduled WHERE status <> 'waiting' AND created_at < %s",
                         (before,))
            return n

    # -- preferences ---------------------------------------------------------------------------
    def preferences_row(self, person_id: str) -> dict | None:
        return self._one(
            "SELECT channels, reminder, quiet_start, quiet_end, timezone FROM preference "
            "WHERE person_id = %s", (person_id,))

    def save_preferences(self, person_id: str, prefs: Preferences) -> None:
        wire = prefs.to_wire()
        self._one(
            "INSERT INTO preference (person_id, channels, reminder, quiet_start, quiet_end, timezone, "
            "updated_at) VALUES (%s, %s, %s, %s, %s, %s, now()) ON CONFLICT (person_id) DO UPDATE SET "
            "channels = EXCLUDED.channels, reminder = EXCLUDED.reminder, "
            "quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end, "
            "timezone = EXCLUDED.timezone, updated_at = now() RETURNING person_id",
            (person_id, Jsonb(wire["channels"]), prefs.reminder, prefs.quiet_start,
             prefs.quiet_end, prefs.timezone),
        )

    # -- chat identities -----------------------------------------------------------------------
    def person_of(self, platform: str, external_id: str) -> str | None:
        row = self._one("SELECT person_id::text FROM chat_identity WHERE platform = %s "
                        "AND external_id = %s", (platform, external_id))
        return row["person_id"] if row else None

    def identity_of(self, person_id: str, platform: str) -> dict | None:
        return self._one("SELECT external_id, handle FROM chat_identity WHERE person_id = %s "
                         "AND platform = %s ORDER BY created_at DESC LIMIT 1", (person_id, platform))

    def set_identity(self, platform: str, external_id: str, person_id: str,
                     handle: str | None) -> dict:
        row = self._one(
            "INSERT INTO chat_identity (platform, external_id, person_id, handle) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (platform, external_id) DO UPDATE SET "
            "person_id = EXCLUDED.person_id, handle = EXCLUDED.handle "
            "RETURNING platform, external_id, person_id::text, handle, created_at",
            (platform, external_id, person_id, handle))
        return _plain(row)

    def delete_identity(self, platform: str, external_id: str) -> bool:
        with self.pool.connection() as conn:
            return conn.execute("DELETE FROM chat_identity WHERE platform = %s AND external_id = %s",
                                (platform, external_id)).rowcount > 0

    def identities(self, person_id: str | None = None, limit: int = 500) -> list[dict]:
        rows = self._all(
            "SELECT platform, external_id, person_id::text, handle, created_at FROM chat_identity "
            "WHERE (%s::uuid IS NULL OR person_id = %s::uuid) ORDER BY platform, external_id LIMIT %s",
            (person_id, person_id, limit))
        return [_plain(r) for r in rows]

    def room_of(self, platform: str, person_id: str) -> str | None:
        row = self._one("SELECT room_id FROM chat_room WHERE platform = %s AND person_id = %s",
                        (platform, person_id))
        return row["room_id"] if row else None

    def set_room(self, platform: str, person_id: str, room_id: str) -> None:
        self._one("INSERT INTO chat_room (platform, person_id, room_id) VALUES (%s, %s, %s) "
                  "ON CONFLICT (platform, person_id) DO UPDATE SET room_id = EXCLUDED.room_id "
                  "RETURNING room_id", (platform, person_id, room_id))
