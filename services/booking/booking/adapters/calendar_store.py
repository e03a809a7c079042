"""Calendar sync state in PostgreSQL: connections, mappings, tokens, links, runs.

Used through a booking ``Unit`` (one transaction), so a link and the booking
change it describes commit together. Credentials are not here: only the name
under which the service's environment holds them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from psycopg.types.json import Jsonb

from ..calendars.reconcile import Link

CONNECTION_COLUMNS = (
    "site_id::text, backend, url, credentials_ref, options, dry_run, enabled, interval_seconds, "
    "fallback_person_id::text, next_run_at, lease_until, updated_at"
)

LINK_SELECT = """
SELECT l.id, l.remote_id, l.occurrence, l.origin, l.state, l.etag, l.booking_id::text,
       l.booking_version, l.remote_created, l.first_seen_at, l.organiser_email,
       b.status AS booking_status, lower(b.during) AS start, upper(b.during) AS "end",
       b.title, b.version, b.created_at AS booking_created
  FROM calendar_link l LEFT JOIN booking b ON b.id = l.booking_id
"""


def link_from_row(row: dict) -> Link:
    return Link(
        remote_id=row["remote_id"], occurrence=row["occurrence"], origin=row["origin"],
        state=row["state"], etag=row["etag"], booking_id=row["booking_id"],
        booking_version=row["booking_version"], booking_status=row["booking_status"],
        start=row["start"], end=row["end"], title=row["title"], version=row["version"] or 0,
    )


class CalendarState:
    """The calendar tables, on one connection (a booking store ``Unit``'s)."""

    def __init__(self, conn):
        self.conn = conn

    def _one(self, sql, params=()):
        return self.conn.execute(sql, params).fetchone()

    def _all(self, sql, params=()):
        return self.conn.execute(sql, params).fetchall()

    # -- configuration ---------------------------------------------------------
    def connection(self, site_id: str) -> dict | None:
        return self._one(f"SELECT {CONNECTION_COLUMNS} FROM calendar_connection WHERE site_id = %s",
                         (site_id,))

    def connections(self) -> list[dict]:
        return self._all(f"SELECT {CONNECTION_COLUMNS} FROM calendar_connection ORDER BY site_id")

    def save_connection(self, site_id: str, data: dict) -> dict:
        return self._one(
            f"""
            INSERT INTO calendar_connection (site_id, backend, url, credentials_ref, options, dry_run,
                                             enabled, interval_seconds, fallback_person_id, next_run_at)
            VALUES (%(site_id)s, %(backend)s, %(url)s, %(credentials_ref)s, %(options)s, %(dry_run)s,
                    %(enabled)s, %(interval_seconds)s, %(fallback_person_id)s, now())
            ON CONFLICT (site_id) DO UPDATE SET
                backend = EXCLUDED.backend, url = EXCLUDED.url,
                credentials_ref = EXCLUDED.credentials_ref, options = EXCLUDED.options,
                dry_run = EXCLUDED.dry_run, enabled = EXCLUDED.enabled,
                interval_seconds = EXCLUDED.interval_seconds,
                fallback_person_id = EXCLUDED.fallback_person_id,
                next_run_at = now(), updated_at = now()
            RETURNING {CONNECTION_COLUMNS}
            """,
            {**data, "site_id": site_id, "options": Jsonb(data.get("options") or {})},
        )

    def delete_connection(self, site_id: str) -> bool:
        self.conn.execute(
            "DELETE FROM calendar_link WHERE resource_id IN "
            "(SELECT resource_id FROM calendar_room WHERE site_id = %s)", (site_id,))
        return self.conn.execute("DELETE FROM calendar_connection WHERE site_id = %s",
                                 (site_id,)).rowcount > 0

    def rooms(self, site_id: str) -> list[dict]:
        return self._all(
            "SELECT cr.resource_id::text, cr.calendar_ref, cr.sync_token, cr.token_at, cr.last_full_at, "
            "cr.last_error, r.name AS resource_name FROM calendar_room cr "
            "JOIN resource r ON r.id = cr.resource_id WHERE cr.site_id = %s ORDER BY r.code, r.id",
            (site_id,),
        )

    def map_room(self, site_id: str, resource_id: str, calendar_ref: str) -> None:
        """(Re)map a room; a new calendar starts from a full listing."""
        self.conn.execute(
            """
            INSERT INTO calendar_room (resource_id, site_id, calendar_ref) VALUES (%s, %s, %s)
            ON CONFLICT (resource_id) DO UPDATE SET
                site_id = EXCLUDED.site_id, calendar_ref = EXCLUDED.calendar_ref,
                sync_token = CASE WHEN calendar_room.calendar_ref = EXCLUDED.calendar_ref
                                  THEN calendar_room.sync_token END
            """,
            (resource_id, site_id, calendar_ref),
        )

    def unmap_room(self, resource_id: str) -> bool:
        self.conn.execute("DELETE FROM calendar_link WHERE resource_id = %s", (resource_id,))
        return self.conn.execute("DELETE FROM calendar_room WHERE resource_id = %s",
                                 (resource_id,)).rowcount > 0

    def people(self, site_id: str) -> list[dict]:
        return self._all(
            "SELECT person_id::text, calendar_ref, busy_digest FROM calendar_person WHERE site_id = %s "
            "ORDER BY person_id", (site_id,))

    def map_person(self, site_id: str, person_id: str, calendar_ref: str) -> None:
        self.conn.execute(
            "INSERT INTO calendar_person (person_id, site_id, calendar_ref) VALUES (%s, %s, %s) "
            "ON CONFLICT (person_id) DO UPDATE SET site_id = EXCLUDED.site_id, "
            "calendar_ref = EXCLUDED.calendar_ref, busy_digest = NULL",
            (person_id, site_id, calendar_ref),
        )

    def unmap_person(self, person_id: str) -> bool:
        return self.conn.execute("DELETE FROM calendar_person WHERE person_id = %s",
                                 (person_id,)).rowcount > 0

    def set_busy_digest(self, person_id: str, digest: str, now: datetime) -> None:
        self.conn.execute("UPDATE calendar_person SET busy_digest = %s, busy_at = %s WHERE person_id = %s",
                          (digest, now, person_id))

    # -- rounds: once across replicas ----------------------------------------------
    def claim(self, now: datetime, lease: timedelta, site_id: str | None = None) -> dict | None:
        """Take the lease of one due site (or of ``site_id`` now), or None.

        ``FOR UPDATE SKIP LOCKED`` plus a lease: two replicas never run the
        same site's round, and a replica that died mid-round frees the site
        when its lease runs out.
        """
        where = "site_id = %(site_id)s" if site_id else "next_run_at <= %(now)s"
        return self._one(
            f"""
            UPDATE calendar_connection c
               SET lease_until = %(until)s,
                   next_run_at = %(now)s + make_interval(secs => c.interval_seconds)
             WHERE c.site_id = (
                   SELECT site_id FROM calendar_connection
                    WHERE enabled AND {where} AND (lease_until IS NULL OR lease_until < %(now)s)
                    ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING {CONNECTION_COLUMNS}
            """,
            {"now": now, "until": now + lease, "site_id": site_id},
        )

    def release(self, site_id: str) -> None:
        self.conn.execute("UPDATE calendar_connection SET lease_until = NULL WHERE site_id = %s", (site_id,))

    def start_run(self, site_id: str, trigger: str, now: datetime) -> int:
        return self._one(
            "INSERT INTO calendar_sync_run (site_id, trigger, started_at) VALUES (%s, %s, %s) RETURNING id",
            (site_id, trigger, now))["id"]

    def finish_run(self, run_id: int, status: str, calls: int, counts: dict, error: str | None,
                   now: datetime) -> dict:
        return self._one(
            "UPDATE calendar_sync_run SET status = %s, calls = %s, counts = %s, error = %s, finished_at = %s "
            "WHERE id = %s RETURNING id, site_id::text, trigger, started_at, finished_at, status, calls, "
            "counts, error",
            (status, calls, Jsonb(counts), error, now, run_id))

    def runs(self, site_id: str, limit: int = 20) -> list[dict]:
        return self._all(
            "SELECT id, site_id::text, trigger, started_at, finished_at, status, calls, counts, error "
            "FROM calendar_sync_run WHERE site_id = %s ORDER BY started_at DESC, id DESC LIMIT %s",
            (site_id, limit))

    def save_token(self, resource_id: str, token: str | None, full: bool, now: datetime,
                   error: str | None = None) -> None:
        self.conn.execute(
            "UPDATE calendar_room SET sync_token = %s, token_at = %s, last_error = %s, "
            "last_full_at = CASE WHEN %s THEN %s ELSE last_full_at END WHERE resource_id = %s",
            (token, now, error, full, now, resource_id))

    def room_error(self, resource_id: str, error: str | None) -> None:
        self.conn.execute("UPDATE calendar_room SET last_error = %s WHERE resource_id = %s",
                          (error, resource_id))

    # -- links -------------------------------------------------------------------
    def links(self, resource_id: str, remote_ids: list[str] | None = None) -> dict[tuple, dict]:
        """Links of a room (of some remote items only), by (remote_id, occurrence)."""
        if remote_ids is None:
            rows = self._all(LINK_SELECT + " WHERE l.resource_id = %s", (resource_id,))
        elif not remote_ids:
            return {}
        else:
            rows = self._all(LINK_SELECT + " WHERE l.resource_id = %s AND l.remote_id = ANY(%s)",
                             (resource_id, remote_ids))
        return {(r["remote_id"], r["occurrence"]): r for r in rows}

    def link_of_booking(self, booking_id: str) -> dict | None:
        return self._one(LINK_SELECT + " WHERE l.booking_id = %s", (booking_id,))

    def save_link(self, resource_id: str, remote_id: str, occurrence: str, *, origin: str,
                  booking_id: str | None, etag: str | None, uid: str | None, booking_version: int,
                  now: datetime, state: str = "active", organiser_email: str | None = None,
                  remote_created: datetime | None = None) -> None:
        # A booking has one link: a relinked booking (an item recreated
        # remotely) drops its older link first.
        if booking_id is not None:
            self.conn.execute(
                "DELETE FROM calendar_link WHERE booking_id = %s "
                "AND (resource_id, remote_id, occurrence) <> (%s, %s, %s)",
                (booking_id, resource_id, remote_id, occurrence))
        self.conn.execute(
            """
            INSERT INTO calendar_link (resource_id, remote_id, occurrence, uid, etag, booking_id, origin,
                                       state, organiser_email, remote_created, booking_version,
                                       first_seen_at, last_seen_at)
            VALUES (%(resource_id)s, %(remote_id)s, %(occurrence)s, %(uid)s, %(etag)s, %(booking_id)s,
                    %(origin)s, %(state)s, %(organiser_email)s, %(remote_created)s, %(booking_version)s,
                    %(now)s, %(now)s)
            ON CONFLICT (resource_id, remote_id, occurrence) DO UPDATE SET
                uid = COALESCE(EXCLUDED.uid, calendar_link.uid), etag = EXCLUDED.etag,
                booking_id = EXCLUDED.booking_id, origin = EXCLUDED.origin, state = EXCLUDED.state,
                organiser_email = COALESCE(EXCLUDED.organiser_email, calendar_link.organiser_email),
                remote_created = COALESCE(EXCLUDED.remote_created, calendar_link.remote_created),
                booking_version = EXCLUDED.booking_version, last_seen_at = EXCLUDED.last_seen_at
            """,
            {"resource_id": resource_id, "remote_id": remote_id, "occurrence": occurrence, "uid": uid,
             "etag": etag, "booking_id": booking_id, "origin": origin, "state": state,
             "organiser_email": organiser_email, "remote_created": remote_created,
             "booking_version": booking_version, "now": now},
        )

    def touch_link(self, resource_id: str, remote_id: str, occurrence: str, etag: str | None,
                   now: datetime, booking_version: int | None = None, state: str | None = None) -> None:
        self.conn.execute(
            "UPDATE calendar_link SET etag = %s, last_seen_at = %s, "
            "booking_version = COALESCE(%s, booking_version), state = COALESCE(%s, state) "
            "WHERE resource_id = %s AND remote_id = %s AND occurrence = %s",
            (etag, now, booking_version, state, resource_id, remote_id, occurrence))

    # -- Escale's side ----------------------------------------------------------------
    def connection_of_booking(self, booking_id: str) -> dict | None:
        """The enabled connection mirroring this booking's room, if any."""
        columns = ", ".join(f"c.{c.strip()}" for c in CONNECTION_COLUMNS.split(","))
        return self._one(
            f"SELECT {columns} FROM booking b JOIN calendar_room r ON r.resource_id = b.resource_id "
            "JOIN calendar_connection c ON c.site_id = r.site_id WHERE b.id = %s AND c.enabled",
            (booking_id,))

    def bookings_to_push(self, site_id: str, now: datetime, limit: int = 2000,
                         booking_id: str | None = None) -> list[dict]:
        """Bookings of the site's mapped rooms the remote calendars do not match yet:
        active ones never written, and any whose version moved past its link's."""
        return self._all(
            """
            SELECT b.id::text AS booking_id, b.status, lower(b.during) AS start, upper(b.during) AS "end",
                   b.ended_at, b.title, b.version, b.source, b.resource_id::text, cr.calendar_ref,
                   p.email AS person_email, s.timezone, r.name AS resource_name,
                   COALESCE(r.attributes->'private' = 'true'::jsonb, false) AS private_room,
                   l.remote_id, l.occurrence, l.origin, l.state, l.etag, l.booking_version
              FROM calendar_room cr
              JOIN booking b ON b.resource_id = cr.resource_id
              JOIN resource r ON r.id = b.resource_id
              JOIN site s ON s.id = r.site_id
              LEFT JOIN person p ON p.id = b.person_id
              LEFT JOIN calendar_link l ON l.booking_id = b.id
             WHERE cr.site_id = %(site_id)s AND upper(b.during) > %(now)s
               AND ((l.id IS NULL AND b.status IN ('confirmed', 'checked_in'))
                    OR (l.state = 'active' AND b.version > l.booking_version))
               AND (%(booking_id)s::uuid IS NULL OR b.id = %(booking_id)s::uuid)
             ORDER BY lower(b.during) LIMIT %(limit)s
            """,
            {"site_id": site_id, "now": now, "limit": limit, "booking_id": booking_id},
        )

    def move_booking(self, booking_id: str, start: datetime, end: datetime, title: str,
                     now: datetime) -> None:
        """Move a booking (its room calendar said so); the caller handles conflicts."""
        from psycopg.types.range import Range

        self.conn.execute(
            "UPDATE booking SET during = %s, title = %s, updated_at = %s, version = version + 1 WHERE id = %s",
            (Range(start, end, "[)"), title, now, booking_id))

    def booking_version(self, booking_id: str) -> int:
        return self._one("SELECT version FROM booking WHERE id = %s", (booking_id,))["version"]
