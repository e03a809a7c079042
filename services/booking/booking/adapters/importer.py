"""Apply validated CSV imports to the booking database.

``booking.domain.imports`` checks a file on its own; this adapter checks what
needs the database (team codes exist, a resource keeps its kind, an e-mail
address is not another organisation's), then upserts by code in ONE
transaction. The caller's connection is used as is and the caller commits;
the work runs in a savepoint, so a rejected file leaves nothing behind even
if the caller went on to commit.

Upserts are keyed by codes: site by organisation + code, building by site +
code, floor by building + code, zone by floor + code, resource by site + code
(a resource whose zone changed is moved), person by lower(email), team by
organisation + code. Only rows that actually change are written, so importing
the same file twice changes nothing the second time, and each entity created
or changed in the place tree gets one ``resource.changed`` event in the
outbox, in the same transaction. Entities missing from a file are left alone:
an import never deletes.

The returned counts are entities (sites ... resources, or people and teams)
``{"created": n, "updated": n}``.
"""

from __future__ import annotations

import json
import struct
from contextlib import contextmanager
from datetime import datetime, timezone

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from booking.adapters.outbox import enqueue
from booking.domain.errors import ImportRejected
from booking.domain.events import resource_changed
from booking.domain.imports import PersonRow, ResourceRow, parse_people, parse_resources
from ..domain import messages

DEFAULT_ORGANISATION = "default"
# Imports of one database run one at a time: the read-compare-write below
# must not interleave with another import of the same codes.
_LOCK_KEY = 0x65736361_6C65  # "escale"


@contextmanager
def _atomic(conn: psycopg.Connection):
    """A savepoint inside the caller's transaction (or a transaction in autocommit)."""
    if not conn.autocommit:
        # Starts the caller's transaction if none is open; held until it ends.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        with conn.transaction():
            yield
    else:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            yield


def _organisation(cur, code: str) -> str:
    cur.execute("SELECT id FROM organisation WHERE code = %s", (code,))
    row = cur.fetchone()
    if row:
        return row["id"]
    name = "Organisation par défaut" if code == DEFAULT_ORGANISATION else code
    cur.execute(
        "INSERT INTO organisation (code, name) VALUES (%s, %s) RETURNING id", (code, name)
    )
    return cur.fetchone()["id"]


def _teams(cur, organisation_id) -> dict[str, dict]:
    cur.execute("SELECT id, code, name FROM team WHERE organisation_id = %s", (organisation_id,))
    return {row["code"]: row for row in cur.fetchall()}


def _f32(value: float | None) -> float | None:
    """``value`` as PostgreSQL's ``real`` stores it, to compare without false changes."""
    if value is None:
        return None
    return struct.unpack("f", struct.pack("f", value))[0]


def _time(value) -> str:
    return value.isoformat()  # "07:30:00", as the catalogue API writes it


def site_data(row: dict) -> dict:
    return {
        "id": str(row["id"]),
        "code": row["code"],
        "name": row["name"],
        "address": row["address"],
        "timezone": row["timezone"],
        "opening_time": _time(row["opening_time"]),
        "midday_time": _time(row["midday_time"]),
        "closing_time": _time(row["closing_time"]),
        "closed_weekdays": list(row["closed_weekdays"]),
        "closed_dates": [d.isoformat() for d in row["closed_dates"]],
        "holiday_country": row["holiday_country"],
        "holiday_subdivision": row["holiday_subdivision"],
    }


def building_data(row: dict) -> dict:
    return {
        "id": str(row["id"]),
        "site_id": str(row["site_id"]),
        "code": row["code"],
        "name": row["name"],
        "address": row["address"],
    }


def floor_data(row: dict) -> dict:
    return {
        "id": str(row["id"]),
        "building_id": str(row["building_id"]),
        "code": row["code"],
        "name": row["name"],
        "level": row["level"],
        "plan_width": row["plan_width"],
        "plan_height": row["plan_height"],
    }


def zone_data(row: dict) -> dict:
    return {
        "id": str(row["id"]),
        "floor_id": str(row["floor_id"]),
        "code": row["code"],
        "name": row["name"],
        "team_id": str(row["team_id"]) if row["team_id"] else None,
    }


def resource_data(row: dict) -> dict:
    return {
        "id": str(row["id"]),
        "site_id": str(row["site_id"]),
        "floor_id": str(row["floor_id"]),
        "zone_id": str(row["zone_id"]),
        "kind": row["kind"],
        "code": row["code"],
        "name": row["name"],
        "capacity": row["capacity"],
        "attributes": row["attributes"],
        "restricted_team_ids": [str(t) for t in row["restricted_team_ids"]],
        "x": row["x"],
        "y": row["y"],
    }


SERIALISERS = {
    "site": site_data,
    "building": building_data,
    "floor": floor_data,
    "zone": zone_data,
    "resource": resource_data,
}


class _Writer:
    """Insert-or-update one entity at a time, counting and recording events."""

    def __init__(self, cur):
        self.cur = cur
        self.created = 0
        self.updated = 0
        self.now = datetime.now(timezone.utc)

    def upsert(self, entity: str, existing: dict | None, keys: dict, values: dict) -> dict:
        """Create the entity, or update the columns of ``values`` that differ."""
        if existing is None:
            columns = {**keys, **values}
            names = ", ".join(columns)
            marks = ", ".join(["%s"] * len(columns))
            self.cur.execute(
                f"INSERT INTO {entity} ({names}) VALUES ({marks}) RETURNING *",
                [_adapt(v) for v in columns.values()],
            )
            row = self.cur.fetchone()
            self.created += 1
            self._event(entity, "created", row)
            return row
        changed = {
            name: value for name, value in values.items() if not _same(existing[name], value)
        }
        if not changed:
            return existing
        assignments = ", ".join(f"{name} = %s" for name in changed)
        self.cur.execute(
            f"UPDATE {entity} SET {assignments}, updated_at = now() WHERE id = %s RETURNING *",
            [*(_adapt(v) for v in changed.values()), existing["id"]],
        )
        row = self.cur.fetchone()
        self.updated += 1
        self._event(entity, "updated", row)
        return row

    def _event(self, entity: str, change: str, row: dict) -> None:
        data = SERIALISERS[entity](row)
        enqueue(
            self.cur.connection,
            resource_changed(self.now, entity, change, data["id"], data),
        )


def _adapt(value):
    return Jsonb(value) if isinstance(value, dict) else value


def _same(stored, wanted) -> bool:
    if isinstance(wanted, float) or isinstance(stored, float):
        return stored is not None and wanted is not None and _f32(wanted) == _f32(stored)
    if isinstance(wanted, dict):
        # Compare as JSON: in Python True == 1, in the stored document it is not.
        return json.dumps(stored, sort_keys=True) == json.dumps(wanted, sort_keys=True)
    if isinstance(wanted, list):
        return [str(v) for v in stored or []] == [str(v) for v in wanted]
    return stored == wanted


def _by(rows, *key_columns) -> dict:
    return {tuple(row[c] for c in key_columns): row for row in rows}


# -- resources ----------------------------------------------------------------


def import_resources(conn, csv_text: str | bytes, organisation_code: str = DEFAULT_ORGANISATION) -> dict:
    """Upsert the place tree described by a resources CSV; all or nothing."""
    rows = parse_resources(csv_text)
    line = [0]
    try:
        with _atomic(conn), conn.cursor(row_factory=dict_row) as cur:
            organisation_id = _organisation(cur, organisation_code)
            teams = _teams(cur, organisation_id)
            existing = _load_tree(cur, organisation_id, rows)
            _check_resources(rows, teams, existing)
            return _apply_resources(cur, organisation_id, rows, teams, existing, line)
    except psycopg.errors.IntegrityError as exc:
        # A concurrent change through the API slipped between check and write.
        raise ImportRejected(
            [{"line": line[0], "column": "",
              "message": messages.text("the_database_refused_this_line_reason",
                                       reason=exc.diag.constraint_name or exc.sqlstate)}]
        ) from None


def _load_tree(cur, organisation_id, rows: list[ResourceRow]) -> dict:
    cur.execute("SELECT * FROM site WHERE organisation_id = %s", (organisation_id,))
    sites = _by(cur.fetchall(), "code")
    site_ids = [s["id"] for s in sites.values()]
    cur.execute("SELECT * FROM building WHERE site_id = ANY(%s)", (site_ids,))
    buildings = _by(cur.fetchall(), "site_id", "code")
    cur.execute(
        "SELECT * FROM floor WHERE building_id = ANY(%s)", ([b["id"] for b in buildings.values()],)
    )
    floors = _by(cur.fetchall(), "building_id", "code")
    cur.execute("SELECT * FROM zone WHERE floor_id = ANY(%s)", ([f["id"] for f in floors.values()],))
    zones = _by(cur.fetchall(), "floor_id", "code")
    cur.execute("SELECT * FROM resource WHERE site_id = ANY(%s)", (site_ids,))
    resources = _by(cur.fetchall(), "site_id", "code")
    return {
        "site": sites,
        "building": buildings,
        "floor": floors,
        "zone": zones,
        "resource": resources,
    }


def _check_resources(rows: list[ResourceRow], teams: dict, existing: dict) -> None:
    errors = []
    for row in rows:
        if row.zone_team_code and row.zone_team_code not in teams:
            errors.append(
                {
                    "line": row.line,
                    "column": "zone_team_code",
                    "message": messages.text("no_team_has_the_code_code", code=row.zone_team_code),
                }
            )
        unknown = [code for code in row.restricted_team_codes if code not in teams]
        if unknown:
            errors.append(
                {
                    "line": row.line,
                    "column": "restricted_team_codes",
                    "message": messages.text("no_team_has_the_code_s",
                                             codes=', '.join(map(repr, unknown))),
                }
            )
        site = existing["site"].get((row.site_code,))
        current = site and existing["resource"].get((site["id"], row.code))
        if current and current["kind"] != row.kind:
            errors.append(
                {
                    "line": row.line,
                    "column": "kind",
                    "message": messages.text("code_already_exists_as_a_kind", code=row.code,
                                             kind=current['kind']),
                }
            )
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e["line"]))


def _apply_resources(cur, organisation_id, rows, teams, existing, line) -> dict:
    writer = _Writer(cur)
    sites: dict[str, dict] = {}
    buildings: dict[tuple, dict] = {}
    floors: dict[tuple, dict] = {}
    zones: dict[tuple, dict] = {}
    for row in rows:
        line[0] = row.line
        site = sites.get(row.site_code)
        if site is None:
            values = {"name": row.site_name}
            if row.site_timezone:
                values["timezone"] = row.site_timezone
            if row.site_address:
                values["address"] = row.site_address
            site = sites[row.site_code] = writer.upsert(
                "site",
                existing["site"].get((row.site_code,)),
                {"organisation_id": organisation_id, "code": row.site_code},
                values,
            )
        building_key = (row.site_code, row.building_code)
        building = buildings.get(building_key)
        if building is None:
            building = buildings[building_key] = writer.upsert(
                "building",
                existing["building"].get((site["id"], row.building_code)),
                {"site_id": site["id"], "code": row.building_code},
                {"name": row.building_name},
            )
        floor_key = building_key + (row.floor_code,)
        floor = floors.get(floor_key)
        if floor is None:
            floor = floors[floor_key] = writer.upsert(
                "floor",
                existing["floor"].get((building["id"], row.floor_code)),
                {"building_id": building["id"], "code": row.floor_code},
                {"name": row.floor_name, "level": row.floor_level},
            )
        zone_key = floor_key + (row.zone_code,)
        zone = zones.get(zone_key)
        if zone is None:
            team = teams.get(row.zone_team_code) if row.zone_team_code else None
            zone = zones[zone_key] = writer.upsert(
                "zone",
                existing["zone"].get((floor["id"], row.zone_code)),
                {"floor_id": floor["id"], "code": row.zone_code},
                {"name": row.zone_name, "team_id": team["id"] if team else None},
            )
        writer.upsert(
            "resource",
            existing["resource"].get((site["id"], row.code)),
            {"site_id": site["id"], "code": row.code, "kind": row.kind},
            {
                "floor_id": floor["id"],
                "zone_id": zone["id"],
                "name": row.name,
                "capacity": row.capacity,
                "attributes": row.attributes,
                "restricted_team_ids": [teams[c]["id"] for c in row.restricted_team_codes],
                "x": row.x,
                "y": row.y,
                "active": True,
            },
        )
    return {"created": writer.created, "updated": writer.updated}


# -- people -------------------------------------------------------------------


def import_people(conn, csv_text: str | bytes, organisation_code: str = DEFAULT_ORGANISATION) -> dict:
    """Upsert people, their teams and memberships from a people CSV; all or nothing."""
    rows = parse_people(csv_text)
    line = [0]
    try:
        with _atomic(conn), conn.cursor(row_factory=dict_row) as cur:
            organisation_id = _organisation(cur, organisation_code)
            cur.execute(
                "SELECT * FROM person WHERE lower(email) = ANY(%s)", ([r.email for r in rows],)
            )
            people = {row["email"].lower(): row for row in cur.fetchall()}
            _check_people(rows, people, organisation_id)
            return _apply_people(cur, organisation_id, rows, people, line)
    except psycopg.errors.IntegrityError as exc:
        raise ImportRejected(
            [{"line": line[0], "column": "",
              "message": messages.text("the_database_refused_this_line_reason",
                                       reason=exc.diag.constraint_name or exc.sqlstate)}]
        ) from None


def _check_people(rows: list[PersonRow], people: dict, organisation_id) -> None:
    errors = [
        {
            "line": row.line,
            "column": "email",
            "message": messages.text("email_belongs_to_another_organisation", email=row.email),
        }
        for row in rows
        if row.email in people and people[row.email]["organisation_id"] != organisation_id
    ]
    if errors:
        raise ImportRejected(errors)


def _apply_people(cur, organisation_id, rows: list[PersonRow], people: dict, line) -> dict:
    created = updated = 0
    teams = _teams(cur, organisation_id)
    names: dict[str, str | None] = {}
    for row in rows:
        for code, name in row.teams or ():
            if names.get(code) is None:
                names[code] = name
    for code, name in names.items():
        team = teams.get(code)
        if team is None:
            cur.execute(
                "INSERT INTO team (organisation_id, code, name) VALUES (%s, %s, %s) "
                "RETURNING id, code, name",
                (organisation_id, code, name or code),
            )
            teams[code] = cur.fetchone()
            created += 1
        elif name is not None and team["name"] != name:
            cur.execute("UPDATE team SET name = %s WHERE id = %s", (name, team["id"]))
            updated += 1

    person_ids = [p["id"] for p in people.values()]
    cur.execute(
        "SELECT person_id, team_id FROM team_member WHERE person_id = ANY(%s)", (person_ids,)
    )
    memberships: dict = {}
    for member in cur.fetchall():
        memberships.setdefault(member["person_id"], set()).add(member["team_id"])

    for row in rows:
        line[0] = row.line
        values = {
            "given_name": row.given_name,
            "family_name": row.family_name,
            "display_name": row.display_name,
            "department": row.department,
            "job_title": row.job_title,
            "phone_extension": row.phone_extension,
            "language": row.language,
            "active": True,
        }
        current = people.get(row.email)
        changed = False
        if current is None:
            cur.execute(
                "INSERT INTO person (organisation_id, email, given_name, family_name, "
                "display_name, department, job_title, phone_extension, language, active) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (organisation_id, row.email, *values.values()),
            )
            person_id = cur.fetchone()["id"]
            created += 1
        else:
            person_id = current["id"]
            diff = {k: v for k, v in values.items() if current[k] != v}
            if diff:
                assignments = ", ".join(f"{k} = %s" for k in diff)
                cur.execute(
                    f"UPDATE person SET {assignments}, updated_at = now() WHERE id = %s",
                    (*diff.values(), person_id),
                )
                changed = True
        if row.teams is not None:
            wanted = {teams[code]["id"] for code, _ in row.teams}
            have = memberships.get(person_id, set())
            if wanted != have:
                gone, new = have - wanted, wanted - have
                if gone:
                    cur.execute(
                        "DELETE FROM team_member WHERE person_id = %s AND team_id = ANY(%s)",
                        (person_id, list(gone)),
                    )
                if new:
                    cur.executemany(
                        "INSERT INTO team_member (team_id, person_id) VALUES (%s, %s)",
                        [(team_id, person_id) for team_id in new],
                    )
                changed = changed or current is not None
                if current is not None:
                    cur.execute(
                        "UPDATE person SET updated_at = now() WHERE id = %s", (person_id,)
                    )
        if changed:
            updated += 1
    return {"created": created, "updated": updated}
