"""The presence store: PostgreSQL behind a narrow unit-of-work interface.

A ``Unit`` is one transaction. Every change to a person's presence data
starts with ``lock_person`` (their ``person_state`` row), so changes to one
person are serialised: the read model written inside the transaction is
written in commit order. Events to publish go to the outbox in the same
transaction.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Iterable, Iterator

import psycopg
from psycopg.types.json import Jsonb
from psycopg.types.range import Range

from ..domain.model import BookingFact, Busy, Slot, TemporaryStatus


class PresenceStore:
    def __init__(self, pool):
        self.pool = pool

    @contextmanager
    def unit(self) -> Iterator["Unit"]:
        with self.pool.connection() as conn:
            with conn.transaction():
                yield Unit(conn)

    def ping(self) -> None:
        with self.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")


def _ids(values: Iterable[str]) -> list[str]:
    return sorted(set(values))


class Unit:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def _all(self, sql, params=()):
        return self.conn.execute(sql, params).fetchall()

    # -- people ---------------------------------------------------------------
    def lock_person(self, person_id: str) -> str:
        """Create or lock the person's state row; returns their visibility."""
        row = self.conn.execute(
            "INSERT INTO person_state (person_id) VALUES (%s) ON CONFLICT (person_id) DO UPDATE "
            "SET version = person_state.version + 1, updated_at = now() RETURNING visibility",
            (person_id,),
        ).fetchone()
        return row["visibility"]

    def lock_people(self, person_ids: Iterable[str]) -> None:
        """Lock several people at once (in id order: no deadlock between batches)."""
        ids = _ids(person_ids)
        if ids:
            self.conn.execute(
                "INSERT INTO person_state (person_id) SELECT unnest(%s::uuid[]) ORDER BY 1 "
                "ON CONFLICT (person_id) DO UPDATE SET version = person_state.version + 1",
                (ids,),
            )

    def visibilities(self, person_ids: Iterable[str]) -> dict[str, str]:
        rows = self._all("SELECT person_id, visibility FROM person_state WHERE person_id = ANY(%s)",
                         (_ids(person_ids),))
        return {str(r["person_id"]): r["visibility"] for r in rows}

    def set_visibility(self, person_id: str, visibility: str) -> None:
        self.conn.execute("UPDATE person_state SET visibility = %s WHERE person_id = %s",
                          (visibility, person_id))

    def people_with_state(self, start: datetime, end: datetime, first: date, last: date) -> set[str]:
        """Everyone who may have something to show between ``first`` and ``last``."""
        rows = self._all(
            """
            SELECT person_id FROM plan_day WHERE day BETWEEN %(first)s AND %(last)s
            UNION SELECT person_id FROM plan_pattern
            UNION SELECT person_id FROM temporary_status WHERE until > %(start)s
            UNION SELECT person_id FROM calendar_busy WHERE window_end > %(start)s
            UNION SELECT person_id FROM booking_fact WHERE during && tstzrange(%(start)s, %(end)s)
            """,
            {"first": first, "last": last, "start": start, "end": end},
        )
        return {str(r["person_id"]) for r in rows}

    # -- plans ----------------------------------------------------------------
    def declared(self, person_ids: Iterable[str] | None, first: date, last: date
                 ) -> dict[str, dict[date, dict[str, Slot]]]:
        sql = ("SELECT person_id, day, slot, status, site_id FROM plan_day "
               "WHERE day BETWEEN %s AND %s")
        params: list = [first, last]
        if person_ids is not None:
            sql += " AND person_id = ANY(%s)"
            params.append(_ids(person_ids))
        out: dict[str, dict[date, dict[str, Slot]]] = {}
        for r in self._all(sql, params):
            site = str(r["site_id"]) if r["site_id"] else None
            out.setdefault(str(r["person_id"]), {}).setdefault(r["day"], {})[r["slot"]] = Slot(
                r["status"], site, "declared")
        return out

    def set_declared(self, person_id: str, changes: dict[tuple[date, str], tuple]) -> None:
        for (day, slot), (status, site_id) in changes.items():
            if status is None:
                self.conn.execute("DELETE FROM plan_day WHERE person_id = %s AND day = %s AND slot = %s",
                                  (person_id, day, slot))
            else:
                self.conn.execute(
                    "INSERT INTO plan_day (person_id, day, slot, status, site_id) VALUES (%s, %s, %s, %s, %s) "
                    "ON CONFLICT (person_id, day, slot) DO UPDATE SET status = EXCLUDED.status, "
                    "site_id = EXCLUDED.site_id, updated_at = now()",
                    (person_id, day, slot, status, site_id),
                )

    def patterns(self, person_ids: Iterable[str] | None) -> dict[str, dict[tuple[int, str], tuple]]:
        sql = "SELECT person_id, weekday, slot, status, site_id FROM plan_pattern"
        params: list = []
        if person_ids is not None:
            sql += " WHERE person_id = ANY(%s)"
            params.append(_ids(person_ids))
        out: dict[str, dict[tuple[int, str], tuple]] = {}
        for r in self._all(sql, params):
            site = str(r["site_id"]) if r["site_id"] else None
            out.setdefault(str(r["person_id"]), {})[(r["weekday"], r["slot"])] = (r["status"], site)
        return out

    def replace_pattern(self, person_id: str, rows: dict[tuple[int, str], tuple]) -> None:
        self.conn.execute("DELETE FROM plan_pattern WHERE person_id = %s", (person_id,))
        for (weekday, slot), (status, site_id) in sorted(rows.items()):
            self.conn.execute(
                "INSERT INTO plan_pattern (person_id, weekday, slot, status, site_id) VALUES (%s, %s, %s, %s, %s)",
                (person_id, weekday, slot, status, site_id),
            )

    # -- temporary status -----------------------------------------------------------
    def temporaries(self, person_ids: Iterable[str] | None, after: datetime) -> dict[str, TemporaryStatus]:
        sql = "SELECT person_id, kind, label, since, until FROM temporary_status WHERE until > %s"
        params: list = [after]
        if person_ids is not None:
            sql += " AND person_id = ANY(%s)"
            params.append(_ids(person_ids))
        return {str(r["person_id"]): TemporaryStatus(r["kind"], r["since"], r["until"], r["label"])
                for r in self._all(sql, params)}

    def set_temporary(self, person_id: str, status: TemporaryStatus) -> None:
        self.conn.execute(
            "INSERT INTO temporary_status (person_id, kind, label, since, until) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (person_id) DO UPDATE SET kind = EXCLUDED.kind, label = EXCLUDED.label, "
            "since = EXCLUDED.since, until = EXCLUDED.until",
            (person_id, status.kind, status.label, status.since, status.until),
        )

    def clear_temporary(self, person_id: str) -> bool:
        return self.conn.execute("DELETE FROM temporary_status WHERE person_id = %s",
                                 (person_id,)).rowcount > 0

    # -- calendar busy times ---------------------------------------------------------------
    def busy(self, person_ids: Iterable[str], after: datetime) -> dict[str, tuple[Busy, ...]]:
        rows = self._all("SELECT person_id, periods FROM calendar_busy WHERE window_end > %s "
                         "AND person_id = ANY(%s)", (after, _ids(person_ids)))
        return {str(r["person_id"]): tuple(Busy(datetime.fromisoformat(s), datetime.fromisoformat(e))
                                           for s, e in r["periods"]) for r in rows}

    def set_busy(self, person_id: str, start: datetime, end: datetime, periods: list[Busy],
                 occurred_at: datetime) -> bool:
        """Replace a person's busy times; False when a later report is already stored."""
        row = self.conn.execute(
            "INSERT INTO calendar_busy (person_id, window_start, window_end, periods, occurred_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (person_id) DO UPDATE SET "
            "window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end, "
            "periods = EXCLUDED.periods, occurred_at = EXCLUDED.occurred_at "
            "WHERE calendar_busy.occurred_at <= EXCLUDED.occurred_at RETURNING person_id",
            (person_id, start, end, Jsonb([[b.start.isoformat(), b.end.isoformat()] for b in periods]),
             occurred_at)).fetchone()
        return row is not None

    # -- booking facts ------------------------------------------------------------------
    def facts(self, person_ids: Iterable[str] | None, start: datetime, end: datetime) -> list[BookingFact]:
        sql = ("SELECT booking_id, person_id, status, kind, lower(during) AS start, upper(during) AS end, "
               "place FROM booking_fact WHERE during && tstzrange(%s, %s)")
        params: list = [start, end]
        if person_ids is not None:
            sql += " AND person_id = ANY(%s)"
            params.append(_ids(person_ids))
        return [BookingFact(str(r["booking_id"]), str(r["person_id"]), r["kind"], r["status"],
                            r["start"], r["end"], r["place"]) for r in self._all(sql, params)]

    def fact_status(self, booking_id: str) -> str | None:
        row = self.conn.execute("SELECT status FROM booking_fact WHERE booking_id = %s",
                                (booking_id,)).fetchone()
        return row["status"] if row else None

    def apply_fact(self, fact: BookingFact, rank: int, occurred_at: datetime | None = None) -> bool:
        """Keep ``fact`` unless a state of higher rank, or of equal rank that
        happened later (or at the same time), is already kept."""
        row = self.conn.execute(
            """
            INSERT INTO booking_fact (booking_id, person_id, rank, status, kind, during, place, occurred_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (booking_id) DO UPDATE SET rank = EXCLUDED.rank, status = EXCLUDED.status,
                   person_id = EXCLUDED.person_id, kind = EXCLUDED.kind, during = EXCLUDED.during,
                   place = EXCLUDED.place, occurred_at = EXCLUDED.occurred_at, updated_at = now()
             WHERE booking_fact.rank < EXCLUDED.rank
                OR (booking_fact.rank = EXCLUDED.rank
                    AND coalesce(booking_fact.occurred_at, '-infinity')
                        < coalesce(EXCLUDED.occurred_at, '-infinity'))
            RETURNING booking_id
            """,
            (fact.booking_id, fact.person_id, rank, fact.status, fact.kind,
             Range(fact.start, fact.end, "[)"), Jsonb(fact.place), occurred_at),
        ).fetchone()
        return row is not None

    def live_facts_not_in(self, start: datetime, end: datetime, keep: set[str],
                          changed_before: datetime) -> list[BookingFact]:
        """Live facts of the window the booking service no longer lists (missed events)."""
        facts = [f for f in self.facts(None, start, end)
                 if f.status in ("confirmed", "checked_in") and f.booking_id not in keep]
        if not facts:
            return []
        old = {str(r["booking_id"]) for r in self._all(
            "SELECT booking_id FROM booking_fact WHERE booking_id = ANY(%s) AND updated_at < %s",
            ([f.booking_id for f in facts], changed_before))}
        return [f for f in facts if f.booking_id in old]

    # -- events -------------------------------------------------------------------
    def claim_event(self, event_id: str) -> bool:
        """True the first time ``event_id`` is seen."""
        row = self.conn.execute(
            "INSERT INTO processed_event (event_id) VALUES (%s) ON CONFLICT DO NOTHING RETURNING event_id",
            (event_id,),
        ).fetchone()
        return row is not None

    def enqueue(self, event: dict) -> None:
        self.conn.execute(
            "INSERT INTO outbox (event_id, event_type, payload) VALUES (%s, %s, %s)",
            (event["event_id"], event["type"], Jsonb(event)),
        )

    # -- retention ------------------------------------------------------------------
    def purge(self, first_kept_day: date, day_start: datetime, now: datetime) -> dict[str, int]:
        """Drop what no day needs any more: no location history is kept."""
        counts = {}
        for name, sql, params in (
            ("plan_day", "DELETE FROM plan_day WHERE day < %s", (first_kept_day,)),
            ("booking_fact", "DELETE FROM booking_fact WHERE upper(during) < %s", (day_start,)),
            ("temporary_status", "DELETE FROM temporary_status WHERE until < %s", (now,)),
            ("processed_event", "DELETE FROM processed_event WHERE processed_at < %s",
             (now - timedelta(days=7),)),
            ("outbox", "DELETE FROM outbox WHERE published_at < %s", (now - timedelta(days=1),)),
        ):
            counts[name] = self.conn.execute(sql, params).rowcount
        return counts


def dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
