"""The booking store: PostgreSQL behind a narrow unit-of-work interface.

A ``Unit`` is one transaction. Use cases read what they need, decide in the
domain, then write the change and its events through the same unit, so the
events commit or roll back with the change. Double bookings are stopped by
the database's exclusion constraints; this module turns their violations
into the domain's named conflicts.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

import psycopg
from psycopg.types.json import Jsonb
from psycopg.types.range import Range

from escale_common.jsonable import plain

from ..domain import errors
from ..domain.availability import Occupation
from ..domain.model import Interval, Resource, Site
from ..domain.rules import DEFAULT_RULES, Rules
from . import outbox
from ..domain.messages import msg

BOOKING_SELECT = """
SELECT b.id, b.status, lower(b.during) AS start, upper(b.during) AS "end",
       b.resource_id, b.resource_kind, r.name AS resource_name, r.site_id, r.floor_id,
       r.zone_id, b.person_id, b.series_id, b.period, b.title, b.source, b.created_at,
       b.checked_in_at, b.sequence, s.timezone
  FROM booking b
  JOIN resource r ON r.id = b.resource_id
  JOIN site s ON s.id = r.site_id
"""

SITE_COLUMNS = (
    "id, code, name, address, timezone, opening_time, midday_time, closing_time, "
    "closed_weekdays, closed_dates, holiday_country, holiday_subdivision"
)
RESOURCE_COLUMNS = (
    "id, site_id, floor_id, zone_id, kind, code, name, capacity, attributes, "
    "restricted_team_ids, x, y"
)
# The same columns with ids already as text: lists of hundreds of resources
# go out as JSON, and converting UUIDs in Python costs more than the query.
RESOURCE_TEXT_COLUMNS = (
    "id::text, site_id::text, floor_id::text, zone_id::text, kind, code, name, capacity, "
    "attributes, restricted_team_ids::text[], x, y"
)
PERSON_COLUMNS = (
    "p.id, p.email, p.display_name, p.given_name, p.family_name, p.department, p.job_title, "
    "p.phone_extension, p.language"
)


def booking_dict(row: dict) -> dict:
    """A booking row as the wire shape, its times in the site's time zone."""
    tz = Site(id="", name="", timezone=row["timezone"]).tz
    data = {k: v for k, v in row.items() if k != "timezone"}
    data["start"] = row["start"].astimezone(tz)
    data["end"] = row["end"].astimezone(tz)
    return plain(data)


def site_from_row(row: dict) -> Site:
    return Site(
        id=str(row["id"]),
        name=row["name"],
        timezone=row["timezone"],
        opening_time=row["opening_time"],
        midday_time=row["midday_time"],
        closing_time=row["closing_time"],
        closed_weekdays=frozenset(row["closed_weekdays"]),
        closed_dates=frozenset(row["closed_dates"]),
        holiday_country=row["holiday_country"],
        holiday_subdivision=row["holiday_subdivision"],
    )


def resource_from_row(row: dict) -> Resource:
    return Resource(
        id=str(row["id"]),
        site_id=str(row["site_id"]),
        kind=row["kind"],
        name=row["name"],
        capacity=row["capacity"],
        attributes=row["attributes"] or {},
        restricted_team_ids=frozenset(str(t) for t in row["restricted_team_ids"]),
        zone_id=str(row["zone_id"]),
        floor_id=str(row["floor_id"]),
        code=row["code"],
        x=row["x"],
        y=row["y"],
    )


def _uuid_or_none(value) -> str | None:
    """Ids arrive as text from the wire; a malformed one is simply not found."""
    import uuid

    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


class ScopeCatalogue:
    """Parsed resources of one site, floor or zone, as of a catalogue version."""

    def __init__(self, version: int, rows: list[dict], resources: list[Resource], site: Site):
        self.version, self.rows, self.resources, self.site = version, rows, resources, site
        self.by_id = {r["id"]: r for r in rows}


class BookingStore:
    MAX_CACHED_SCOPES = 2000

    def __init__(self, pool):
        self.pool = pool
        # Per process: (scope column, scope id, kind) -> ScopeCatalogue. Checked
        # against catalog_version on every use, so it is never stale.
        self.scopes: dict[tuple, ScopeCatalogue] = {}

    @contextmanager
    def unit(self, transaction: bool = True) -> Iterator["Unit"]:
        """A unit of work; ``transaction=False`` for one read then one atomic
        statement, which saves the BEGIN and COMMIT round trips."""
        with self.pool.connection() as conn:
            if transaction:
                with conn.transaction():
                    yield Unit(conn, self)
            else:
                yield Unit(conn, self)

    def ping(self) -> None:
        with self.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")


class Unit:
    def __init__(self, conn: psycopg.Connection, store: BookingStore | None = None):
        self.conn = conn
        self.store = store

    def _one(self, sql, params=()):
        return self.conn.execute(sql, params).fetchone()

    def _all(self, sql, params=()):
        return self.conn.execute(sql, params).fetchall()

    # -- events -------------------------------------------------------------
    def enqueue(self, event: dict) -> None:
        outbox.enqueue(self.conn, event)

    # -- catalogue ----------------------------------------------------------
    def site_row(self, site_id) -> dict:
        sid = _uuid_or_none(site_id)
        row = sid and self._one(f"SELECT {SITE_COLUMNS} FROM site WHERE id = %s", (sid,))
        if not row:
            raise errors.NotFound("no_such_site", field="site_id")
        return row

    def site(self, site_id) -> Site:
        return site_from_row(self.site_row(site_id))

    def sites(self) -> list[dict]:
        return self._all(f"SELECT {SITE_COLUMNS} FROM site ORDER BY name")

    def resource_row(self, resource_id, active_only=True) -> dict:
        rid = _uuid_or_none(resource_id)
        where = "id = %s AND active" if active_only else "id = %s"
        row = rid and self._one(f"SELECT {RESOURCE_COLUMNS} FROM resource WHERE {where}", (rid,))
        if not row:
            raise errors.NotFound("no_such_resource", field="resource_id")
        return row

    def resources(self, site_id=None, floor_id=None, zone_id=None, kind=None) -> list[dict]:
        clauses, params = ["active"], []
        for column, value in (("site_id", site_id), ("floor_id", floor_id), ("zone_id", zone_id)):
            if value is not None:
                uid = _uuid_or_none(value)
                if uid is None:
                    raise errors.NotFound(msg("no_such_entity", entity=column[:-3]), field=column)
                clauses.append(f"{column} = %s")
                params.append(uid)
        if kind is not None:
            clauses.append("kind = %s")
            params.append(kind)
        return self._all(
            f"SELECT {RESOURCE_TEXT_COLUMNS} FROM resource WHERE {' AND '.join(clauses)} "
            "ORDER BY kind, code",
            params,
        )

    def version_and_teams(self, person_id) -> tuple[int, frozenset[str]]:
        """The catalogue version and a person's teams, in one round trip."""
        row = self._one(
            "SELECT (SELECT version FROM catalog_version) AS version, "
            "ARRAY(SELECT team_id::text FROM team_member WHERE person_id = %s) AS teams",
            (_uuid_or_none(person_id),),
        )
        return row["version"], frozenset(row["teams"])

    def scope_catalogue(self, version: int, column: str, scope_id, kind) -> ScopeCatalogue:
        """Resources of a scope, parsed once per catalogue version and process."""
        key = (column, str(scope_id), kind)
        cached = self.store.scopes.get(key)
        if cached is not None and cached.version == version:
            return cached
        rows = self.resources(**{column: scope_id, "kind": kind})
        resources = [resource_from_row(r) for r in rows]
        site = self.site(resources[0].site_id if resources else self.scope_site_id(column, scope_id))
        entry = ScopeCatalogue(version, rows, resources, site)
        if len(self.store.scopes) >= self.store.MAX_CACHED_SCOPES:
            self.store.scopes.clear()
        self.store.scopes[key] = entry
        return entry

    def scope_site_id(self, column: str, scope_id) -> str:
        query = {
            "site_id": "SELECT id AS site_id FROM site WHERE id = %s",
            "floor_id": "SELECT b.site_id FROM floor f JOIN building b ON b.id = f.building_id WHERE f.id = %s",
            "zone_id": "SELECT b.site_id FROM zone z JOIN floor f ON f.id = z.floor_id "
                       "JOIN building b ON b.id = f.building_id WHERE z.id = %s",
        }[column]
        row = self._one(query, (_uuid_or_none(scope_id),))
        if not row:
            raise errors.NotFound(msg("no_such_entity", entity=column[:-3]), field=column)
        return str(row["site_id"])

    def scope_occupations(self, column: str, scope_id, interval: Interval) -> list[Occupation]:
        """Active bookings of a scope's resources over an interval."""
        rows = self.conn.execute(
            "SELECT b.id::text, b.resource_id::text, b.person_id::text FROM booking b "
            f"JOIN resource r ON r.id = b.resource_id WHERE r.{column} = %s "
            "AND b.status IN ('confirmed', 'checked_in') AND b.during && %s",
            (_uuid_or_none(scope_id), Range(interval.start, interval.end, "[)")),
            binary=False,
        )
        return [Occupation(*row.values()) for row in rows]

    def rules(self, site_id, kind) -> Rules:
        row = self._one(
            "SELECT max_days_ahead, max_recurring_days_ahead, max_duration_minutes, "
            "checkin_opens_minutes_before, release_after_minutes, "
            "to_char(checkin_deadline, 'HH24:MI') AS checkin_deadline "
            "FROM booking_rule WHERE site_id = %s AND resource_kind = %s",
            (site_id, kind),
        )
        return Rules(**row) if row else DEFAULT_RULES[kind]

    def save_rules(self, site_id, kind, rules: Rules) -> None:
        self.conn.execute(
            """
            INSERT INTO booking_rule (site_id, resource_kind, max_days_ahead, max_recurring_days_ahead,
                                      max_duration_minutes, checkin_opens_minutes_before,
                                      release_after_minutes, checkin_deadline)
            VALUES (%(site_id)s, %(kind)s, %(max_days_ahead)s, %(max_recurring_days_ahead)s,
                    %(max_duration_minutes)s, %(checkin_opens_minutes_before)s,
                    %(release_after_minutes)s, %(checkin_deadline)s::time)
            ON CONFLICT (site_id, resource_kind) DO UPDATE SET
                max_days_ahead = EXCLUDED.max_days_ahead,
                max_recurring_days_ahead = EXCLUDED.max_recurring_days_ahead,
                max_duration_minutes = EXCLUDED.max_duration_minutes,
                checkin_opens_minutes_before = EXCLUDED.checkin_opens_minutes_before,
                release_after_minutes = EXCLUDED.release_after_minutes,
                checkin_deadline = EXCLUDED.checkin_deadline,
                updated_at = now()
            """,
            {"site_id": site_id, "kind": kind, **rules.to_dict()},
        )

    def team_zone_ids(self, team_id) -> set[str]:
        tid = _uuid_or_none(team_id)
        if tid is None:
            raise errors.NotFound("no_such_team", field="near_team_id")
        return {str(r["id"]) for r in self._all("SELECT id FROM zone WHERE team_id = %s", (tid,))}

    # -- people -------------------------------------------------------------
    def person(self, person_id) -> dict | None:
        if person_id is None:
            return None  # a walk-in booking from a door tablet has no owner
        pid = _uuid_or_none(person_id)
        row = pid and self._one(f"SELECT {PERSON_COLUMNS} FROM person p WHERE p.id = %s", (pid,))
        if not row:
            raise errors.NotFound("no_such_person", field="person_id")
        return self._with_teams([row])[0]

    def display_names(self, person_ids) -> dict[str, str]:
        """Person id -> display name, for the door tablets' organiser line."""
        ids = [i for i in (_uuid_or_none(p) for p in person_ids) if i]
        if not ids:
            return {}
        rows = self._all("SELECT id::text, display_name FROM person WHERE id = ANY(%s::uuid[])", (ids,))
        return {r["id"]: r["display_name"] for r in rows}

    def person_by_email(self, email: str) -> dict:
        row = self._one(
            f"SELECT {PERSON_COLUMNS} FROM person p WHERE lower(p.email) = lower(%s)", (email,)
        )
        if not row:
            raise errors.NotFound("no_such_person", field="email")
        return self._with_teams([row])[0]

    def search_people(self, words: list[str], limit: int) -> list[dict]:
        """People whose folded name, email or department contains every word."""
        clauses = " AND ".join(
            ["p.active"] + ["p.search_text LIKE '%%' || lower(public.unaccent(%s)) || '%%'"] * len(words)
        )
        rows = self._all(
            f"SELECT {PERSON_COLUMNS} FROM person p WHERE {clauses} "
            "ORDER BY p.family_name, p.given_name, p.email LIMIT %s",
            [*words, limit],
        )
        return self._with_teams(rows)

    def _with_teams(self, rows: list[dict]) -> list[dict]:
        ids = [r["id"] for r in rows]
        teams: dict = {i: [] for i in ids}
        if ids:
            for t in self._all(
                "SELECT m.person_id, t.id, t.code, t.name FROM team_member m "
                "JOIN team t ON t.id = m.team_id WHERE m.person_id = ANY(%s) ORDER BY t.name",
                (ids,),
            ):
                teams[t["person_id"]].append({"id": t["id"], "code": t["code"], "name": t["name"]})
        return [plain({**r, "teams": teams[r["id"]]}) for r in rows]

    def person_team_ids(self, person_id) -> frozenset[str]:
        rows = self._all("SELECT team_id FROM team_member WHERE person_id = %s", (person_id,))
        return frozenset(str(r["team_id"]) for r in rows)

    # -- idempotency ----------------------------------------------------------
    def claim_idempotency_key(self, person_id: str, key: str, request_hash: str) -> dict | None:
        """Claim a key for this transaction, or return the first request's answer.

        A concurrent request with the same key waits on the primary key until
        the first one commits (then reads its answer) or rolls back (then
        claims the key itself).
        """
        claimed = self._one(
            "INSERT INTO idempotency_key (person_id, key, request_hash, response) "
            "VALUES (%s, %s, %s, 'null') ON CONFLICT DO NOTHING RETURNING key",
            (person_id, key, request_hash),
        )
        if claimed:
            return None
        row = self._one(
            "SELECT request_hash, response FROM idempotency_key WHERE person_id = %s AND key = %s",
            (person_id, key),
        )
        if row["request_hash"] != request_hash:
            raise errors.IdempotencyKeyReused(
                "this_idempotency_key_was_already_used",
                field="Idempotency-Key",
            )
        return row["response"]

    def store_idempotent_response(self, person_id: str, key: str, response: dict) -> None:
        self.conn.execute(
            "UPDATE idempotency_key SET response = %s WHERE person_id = %s AND key = %s",
            (Jsonb(response), person_id, key),
        )

    # -- bookings -------------------------------------------------------------
    def booking_context(self, resource_id, person_id) -> "BookingContext":
        """Everything a booking decision needs, in one round trip."""
        rid, pid = _uuid_or_none(resource_id), _uuid_or_none(person_id)
        row = rid and self._one(
            """
            SELECT r.id, r.site_id, r.floor_id, r.zone_id, r.kind, r.code, r.name, r.capacity,
                   r.attributes, r.restricted_team_ids, r.x, r.y,
                   s.name AS site_name, s.timezone, s.opening_time, s.midday_time, s.closing_time,
                   s.closed_weekdays, s.closed_dates, s.holiday_country, s.holiday_subdivision,
                   br.max_days_ahead, br.max_recurring_days_ahead, br.max_duration_minutes,
                   br.checkin_opens_minutes_before, br.release_after_minutes,
                   to_char(br.checkin_deadline, 'HH24:MI') AS checkin_deadline,
                   p.id AS person_id, p.email AS person_email, p.display_name AS person_name,
                   p.language AS person_language,
                   ARRAY(SELECT m.team_id FROM team_member m WHERE m.person_id = p.id) AS team_ids
              FROM resource r
              JOIN site s ON s.id = r.site_id
              LEFT JOIN booking_rule br ON br.site_id = r.site_id AND br.resource_kind = r.kind
              LEFT JOIN person p ON p.id = %s AND p.active
             WHERE r.id = %s AND r.active
            """,
            (pid, rid),
        )
        if not row:
            raise errors.NotFound("no_such_resource", field="resource_id")
        return BookingContext.from_row(row)

    def create_series(self, resource_id: str, person_id: str, rrule: str) -> str:
        row = self._one(
            "INSERT INTO booking_series (resource_id, person_id, rrule) VALUES (%s, %s, %s) RETURNING id",
            (resource_id, person_id, rrule),
        )
        return str(row["id"])

    def insert_booking(self, booking: dict, resource: Resource, interval: Interval,
                       created_by: str | None, event: dict) -> None:
        """Insert an active booking and its event in one atomic statement, or
        raise the conflict that stops it.

        Inside a transaction (a series, an idempotent request) the statement
        runs in a savepoint, so a conflict leaves the rest usable.
        """
        statement = """
            WITH new AS (
                INSERT INTO booking (id, resource_id, resource_kind, person_id, during, period,
                                     title, series_id, source, created_by, created_at, updated_at,
                                     status, checked_in_at)
                VALUES (%(id)s, %(resource_id)s, %(resource_kind)s, %(person_id)s, %(during)s,
                        %(period)s, %(title)s, %(series_id)s, %(source)s, %(created_by)s,
                        %(created_at)s, %(created_at)s, %(status)s, %(checked_in_at)s)
                RETURNING id)
            INSERT INTO outbox (event_id, event_type, payload)
            SELECT %(event_id)s, %(event_type)s, %(payload)s FROM new
        """
        params = {
            **booking,
            "during": Range(interval.start, interval.end, "[)"),
            "created_by": created_by,
            "event_id": event["event_id"],
            "event_type": event["type"],
            "payload": Jsonb(event),
        }
        try:
            if self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                self.conn.execute(statement, params)
            else:
                with self.conn.transaction():
                    self.conn.execute(statement, params)
        except psycopg.errors.ExclusionViolation as exc:
            raise self._conflict(exc.diag.constraint_name, resource, booking["person_id"], interval) from None
        outbox.mark_written()

    def _conflict(self, constraint, resource, person_id, interval) -> errors.Conflict:
        span = Range(interval.start, interval.end, "[)")
        if constraint == "booking_one_desk_per_person":
            clash = self._one(
                BOOKING_SELECT + " WHERE b.person_id = %s AND b.resource_kind = 'desk' "
                "AND b.status IN ('confirmed', 'checked_in') AND b.during && %s LIMIT 1",
                (person_id, span),
            )
            conflict = booking_dict(clash) if clash else None
            return errors.PersonAlreadyHasDesk(
                "this_person_already_has_a_desk",
                conflict=conflict and _conflict_view(conflict),
            )
        clash = self._one(
            BOOKING_SELECT + " WHERE b.resource_id = %s "
            "AND b.status IN ('confirmed', 'checked_in') AND b.during && %s LIMIT 1",
            (resource.id, span),
        )
        conflict = booking_dict(clash) if clash else None
        return errors.ResourceAlreadyBooked(
            msg("resource_is_already_booked_at_that", resource=resource.name),
            conflict=conflict and _conflict_view(conflict),
        )

    def booking(self, booking_id, for_update: bool = False) -> dict:
        bid = _uuid_or_none(booking_id)
        lock = " FOR UPDATE OF b" if for_update else ""
        row = bid and self._one(BOOKING_SELECT + " WHERE b.id = %s" + lock, (bid,))
        if not row:
            raise errors.NotFound("no_such_booking", field="booking_id")
        return booking_dict(row)

    def bookings(self, person_id=None, resource_id=None, start=None, end=None, status=None,
                 limit: int = 500) -> list[dict]:
        clauses, params = [], []
        if person_id is not None:
            clauses.append("b.person_id = %s")
            params.append(person_id)
        if resource_id is not None:
            clauses.append("b.resource_id = %s")
            params.append(resource_id)
        if start is not None:
            clauses.append("upper(b.during) > %s")
            params.append(start)
        if end is not None:
            clauses.append("lower(b.during) < %s")
            params.append(end)
        if status is not None:
            clauses.append("b.status = %s")
            params.append(status)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._all(BOOKING_SELECT + where + " ORDER BY lower(b.during) LIMIT %s", [*params, limit])
        return [booking_dict(r) for r in rows]

    def occupancy(self, site_id: str, start, end, kind: str) -> tuple[list[dict], dict[str, dict]]:
        """Bookings of a kind starting in [start, end) at a site (any status), and the site's zones."""
        rows = self._all(
            "SELECT lower(b.during) AS start, upper(b.during) AS \"end\", b.status, "
            "b.checked_in_at IS NOT NULL AS checked_in, r.zone_id "
            "FROM booking b JOIN resource r ON r.id = b.resource_id "
            "WHERE r.site_id = %s AND b.resource_kind = %s AND lower(b.during) >= %s "
            "AND lower(b.during) < %s", (site_id, kind, start, end))
        zones = self._all(
            "SELECT z.id, z.code, z.name FROM zone z JOIN floor f ON f.id = z.floor_id "
            "JOIN building bd ON bd.id = f.building_id WHERE bd.site_id = %s", (site_id,))
        return rows, {str(z["id"]): {"code": z["code"], "name": z["name"]} for z in zones}

    def series_from(self, series_id: str, start: str) -> list[dict]:
        """Active bookings of a series starting at or after ``start``, locked."""
        rows = self._all(
            BOOKING_SELECT + " WHERE b.series_id = %s AND lower(b.during) >= %s "
            "AND b.status IN ('confirmed', 'checked_in') ORDER BY lower(b.during) FOR UPDATE OF b",
            (series_id, start),
        )
        return [booking_dict(r) for r in rows]

    def set_status(self, booking_id: str, status: str, now: datetime) -> dict:
        stamp = {"checked_in": "checked_in_at", "ended": "ended_at"}.get(status)
        extra = f", {stamp} = %s" if stamp else ""
        params = [status, now] + ([now] if stamp else []) + [booking_id]
        self.conn.execute(
            f"UPDATE booking SET status = %s, updated_at = %s{extra}, version = version + 1 "
            "WHERE id = %s",
            params,
        )
        return self.booking(booking_id)

    def extend_to(self, booking: dict, resource: Resource, new_end: datetime, now: datetime) -> dict:
        """Move a booking's end later, or raise the conflict (the next booking) that stops it."""
        start, end = datetime.fromisoformat(booking["start"]), datetime.fromisoformat(booking["end"])
        try:
            with self.conn.transaction():
                self.conn.execute(
                    "UPDATE booking SET during = %s, updated_at = %s, version = version + 1 WHERE id = %s",
                    (Range(start, new_end, "[)"), now, booking["id"]),
                )
        except psycopg.errors.ExclusionViolation as exc:
            raise self._conflict(exc.diag.constraint_name, resource, booking["person_id"],
                                 Interval(end, new_end)) from None
        return self.booking(booking["id"])

    def record_device_action(self, booking_id: str, device_id: str, action: str,
                             now: datetime) -> None:
        self.conn.execute(
            "INSERT INTO device_action (booking_id, device_id, action, at) VALUES (%s, %s, %s, %s)",
            (booking_id, device_id, action, now),
        )

    def occupations(self, resource_ids: list[str], interval: Interval) -> list[Occupation]:
        if not resource_ids:
            return []
        rows = self._all(
            "SELECT id, resource_id, person_id FROM booking "
            "WHERE resource_id = ANY(%s) AND status IN ('confirmed', 'checked_in') AND during && %s",
            (resource_ids, Range(interval.start, interval.end, "[)")),
        )
        return [Occupation(str(r["id"]), str(r["resource_id"]), r["person_id"] and str(r["person_id"]))
                for r in rows]

    def team_anchor_points(self, team_id: str, floor_ids: list[str], interval: Interval):
        """Where members of a team sit over an interval (desk positions)."""
        rows = self._all(
            "SELECT r.x, r.y FROM booking b JOIN resource r ON r.id = b.resource_id "
            "JOIN team_member m ON m.person_id = b.person_id "
            "WHERE m.team_id = %s AND r.floor_id = ANY(%s) AND b.resource_kind = 'desk' "
            "AND b.status IN ('confirmed', 'checked_in') AND b.during && %s "
            "AND r.x IS NOT NULL AND r.y IS NOT NULL",
            (team_id, floor_ids, Range(interval.start, interval.end, "[)")),
        )
        return [(r["x"], r["y"]) for r in rows]

    def active_between(self, start: datetime, end: datetime, after: str | None, limit: int) -> list[dict]:
        """Active bookings overlapping [start, end), with who and where, by id
        (keyset pagination), shaped like the booking events."""
        rows = self._all(
            """
            SELECT b.id, b.status, lower(b.during) AS start, upper(b.during) AS "end",
                   b.resource_id, b.resource_kind, r.name AS resource_name, r.site_id, r.floor_id,
                   r.zone_id, b.person_id, b.series_id, b.period, b.title, b.source, b.created_at,
                   b.checked_in_at, s.timezone,
                   r.code AS resource_code, s.name AS site_name,
                   p.email, p.display_name, p.language
              FROM booking b
              JOIN resource r ON r.id = b.resource_id
              JOIN site s ON s.id = r.site_id
              LEFT JOIN person p ON p.id = b.person_id
             WHERE b.status IN ('confirmed', 'checked_in') AND b.during && tstzrange(%s, %s, '[)')
               AND (%s::uuid IS NULL OR b.id > %s::uuid)
             ORDER BY b.id LIMIT %s
            """,
            (start, end, after, after, limit),
        )
        items = []
        for row in rows:
            extra = {k: row.pop(k) for k in ("resource_code", "site_name", "email", "display_name", "language")}
            booking = booking_dict(row)
            items.append({
                "booking": booking,
                # null for a walk-in booking made at a door tablet (no owner)
                "person": None if booking["person_id"] is None else {
                    "id": booking["person_id"], "email": extra["email"],
                    "display_name": extra["display_name"], "language": extra["language"]},
                "resource": {"id": booking["resource_id"], "code": extra["resource_code"],
                             "name": booking["resource_name"], "kind": booking["resource_kind"],
                             "site_id": booking["site_id"], "floor_id": booking["floor_id"],
                             "zone_id": booking["zone_id"]},
                "site": {"id": booking["site_id"], "name": extra["site_name"], "timezone": row["timezone"]},
            })
        return items

    def no_shows(self, now: datetime, limit: int) -> list[dict]:
        """Confirmed (never checked-in) bookings past their site's release
        delay, or past the check-in deadline of their day, and not yet over,
        claimed for this transaction. A kind whose delay is 0 and without a
        deadline is never released."""
        defaults = " ".join(
            f"WHEN '{kind}' THEN {rules.release_after_minutes}" for kind, rules in DEFAULT_RULES.items()
        )
        # The deadline (rules.deadline_release): that local time of the booking's
        # first day, for a booking that started before it.
        deadline = "((lower(b.during) AT TIME ZONE s.timezone)::date + br.checkin_deadline) AT TIME ZONE s.timezone"
        rows = self._all(
            BOOKING_SELECT + f"""
             LEFT JOIN booking_rule br ON br.site_id = r.site_id AND br.resource_kind = b.resource_kind
             WHERE b.status = 'confirmed' AND upper(b.during) > %(now)s
               AND ((COALESCE(br.release_after_minutes, CASE b.resource_kind {defaults} END) > 0
                     AND lower(b.during) + make_interval(
                           mins => COALESCE(br.release_after_minutes, CASE b.resource_kind {defaults} END))
                         <= %(now)s)
                    OR (br.checkin_deadline IS NOT NULL AND lower(b.during) < {deadline}
                        AND {deadline} <= %(now)s))
             ORDER BY lower(b.during) LIMIT %(limit)s FOR UPDATE OF b SKIP LOCKED""",
            {"now": now, "limit": limit},
        )
        return [booking_dict(r) for r in rows]

    def checked_in_past_end(self, now: datetime, limit: int) -> list[dict]:
        """Checked-in bookings whose time is over, claimed for this transaction."""
        rows = self._all(
            BOOKING_SELECT + " WHERE b.status = 'checked_in' AND upper(b.during) <= %s "
            "ORDER BY upper(b.during) LIMIT %s FOR UPDATE OF b SKIP LOCKED",
            (now, limit),
        )
        return [booking_dict(r) for r in rows]

    def feed(self, start: datetime, end: datetime, cancelled_since: datetime, person_id=None,
             resource_id=None, limit: int = 2000) -> list[dict]:
        """One person's or one resource's bookings over [start, end) for a
        calendar feed: every status, except those called off before
        ``cancelled_since``; with where they are and who holds them."""
        column, owner = ("b.person_id", person_id) if person_id is not None else ("b.resource_id", resource_id)
        rows = self._all(
            f"""
            SELECT b.id, b.status, lower(b.during) AS start, upper(b.during) AS "end",
                   b.resource_id, b.resource_kind, r.name AS resource_name, r.site_id, r.floor_id,
                   r.zone_id, b.person_id, b.series_id, b.period, b.title, b.source, b.created_at,
                   b.checked_in_at, b.sequence, b.updated_at, s.timezone,
                   r.code AS resource_code, s.name AS site_name, bl.name AS building_name,
                   f.name AS floor_name, z.name AS zone_name,
                   p.display_name AS person_name, p.email AS person_email
              FROM booking b
              JOIN resource r ON r.id = b.resource_id
              JOIN site s ON s.id = r.site_id
              LEFT JOIN floor f ON f.id = r.floor_id
              LEFT JOIN building bl ON bl.id = f.building_id
              LEFT JOIN zone z ON z.id = r.zone_id
              LEFT JOIN person p ON p.id = b.person_id
             WHERE {column} = %(owner)s AND b.during && tstzrange(%(start)s, %(end)s, '[)')
               AND (b.status NOT IN ('cancelled', 'released') OR b.updated_at >= %(since)s)
             ORDER BY lower(b.during), b.id LIMIT %(limit)s
            """,
            {"owner": _uuid_or_none(owner), "start": start, "end": end, "since": cancelled_since,
             "limit": limit},
        )
        items = []
        for row in rows:
            extra = {k: row.pop(k) for k in ("resource_code", "site_name", "building_name",
                                              "floor_name", "zone_name", "person_name", "person_email")}
            booking = booking_dict(row)
            items.append({
                "booking": booking,
                "place": {"site": extra["site_name"], "building": extra["building_name"],
                          "floor": extra["floor_name"], "zone": extra["zone_name"],
                          "resource_code": extra["resource_code"], "timezone": row["timezone"]},
                "person": None if booking["person_id"] is None else
                {"id": booking["person_id"], "display_name": extra["person_name"],
                 "email": extra["person_email"]},
            })
        return items


class BookingContext:
    """A resource with its site, rules and the person a booking would be for."""

    def __init__(self, resource: Resource, site: Site, rules: Rules, person: dict | None,
                 team_ids: frozenset[str], resource_event: dict, site_event: dict):
        self.resource, self.site, self.rules = resource, site, rules
        self.person, self.team_ids = person, team_ids
        self.resource_event, self.site_event = resource_event, site_event

    @classmethod
    def from_row(cls, row: dict) -> "BookingContext":
        resource = resource_from_row(row)
        site = site_from_row({**row, "id": row["site_id"], "name": row["site_name"]})
        rules = DEFAULT_RULES[resource.kind]
        if row["max_days_ahead"] is not None:
            rules = Rules(**{k: row[k] for k in (
                "max_days_ahead", "max_recurring_days_ahead", "max_duration_minutes",
                "checkin_opens_minutes_before", "release_after_minutes", "checkin_deadline")})
        person = None
        if row["person_id"] is not None:
            person = {"id": str(row["person_id"]), "email": row["person_email"],
                      "display_name": row["person_name"], "language": row["person_language"]}
        resource_event = {"id": resource.id, "code": resource.code, "name": resource.name,
                          "kind": resource.kind, "site_id": resource.site_id,
                          "floor_id": resource.floor_id, "zone_id": resource.zone_id}
        site_event = {"id": site.id, "name": site.name, "timezone": site.timezone}
        return cls(resource, site, rules, person, frozenset(str(t) for t in row["team_ids"] or ()),
                   resource_event, site_event)

    def new_booking(self, booking_id: str, person_id: str, interval: Interval, period: str,
                    title: str, series_id: str | None, source: str, now: datetime) -> dict:
        """The wire shape of a booking about to be inserted."""
        tz = self.site.tz
        return {
            "id": booking_id, "status": "confirmed",
            "start": interval.start.astimezone(tz).isoformat(),
            "end": interval.end.astimezone(tz).isoformat(),
            "resource_id": self.resource.id, "resource_kind": self.resource.kind,
            "resource_name": self.resource.name, "site_id": self.site.id,
            "floor_id": self.resource.floor_id, "zone_id": self.resource.zone_id,
            "person_id": person_id, "series_id": series_id, "period": period, "title": title,
            "source": source, "created_at": now.isoformat(), "checked_in_at": None,
            "sequence": 0,
        }


def _conflict_view(booking: dict) -> dict:
    """What a 409 tells about the clashing booking (never who holds it)."""
    return {k: booking[k] for k in ("id", "start", "end", "resource_id")}
