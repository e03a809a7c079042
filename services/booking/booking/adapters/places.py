"""SQL for the place tree (sites, buildings, floors, zones, resources)."""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from ..domain import errors
from ..domain.places import PARENT
from .store import SITE_COLUMNS, RESOURCE_COLUMNS, Unit, plain
from ..domain.messages import msg

TABLE_COLUMNS = {
    "site": SITE_COLUMNS,
    "building": "id, site_id, code, name, address",
    "floor": "id, building_id, code, name, level, plan_width, plan_height",
    "zone": "id, floor_id, code, name, team_id",
    "resource": RESOURCE_COLUMNS,
}
CHILD = {"site": "building", "building": "floor", "floor": "zone", "zone": "resource"}

# Walks up the tree to the site an entity belongs to.
SITE_OF = {
    "site": "SELECT id AS site_id FROM site WHERE id = %s",
    "building": "SELECT site_id FROM building WHERE id = %s",
    "floor": "SELECT b.site_id FROM floor f JOIN building b ON b.id = f.building_id WHERE f.id = %s",
    "zone": "SELECT b.site_id FROM zone z JOIN floor f ON f.id = z.floor_id "
            "JOIN building b ON b.id = f.building_id WHERE z.id = %s",
    "resource": "SELECT site_id FROM resource WHERE id = %s",
}


def site_of(unit: Unit, entity: str, entity_id: str) -> str:
    row = unit.conn.execute(SITE_OF[entity], (entity_id,)).fetchone()
    if not row:
        raise errors.NotFound(msg("no_such_entity", entity=entity), field=f"{entity}_id")
    return str(row["site_id"])


def get(unit: Unit, entity: str, entity_id: str) -> dict:
    row = unit.conn.execute(
        f"SELECT {TABLE_COLUMNS[entity]} FROM {entity} WHERE id = %s", (entity_id,)
    ).fetchone()
    if not row:
        raise errors.NotFound(msg("no_such_entity", entity=entity), field=f"{entity}_id")
    return plain(row)


def default_organisation(unit: Unit) -> str:
    """Sites made through the API belong to the same default organisation as imports."""
    from .importer import DEFAULT_ORGANISATION, _organisation

    return str(_organisation(unit.conn.cursor(), DEFAULT_ORGANISATION))


def _resource_placement(unit: Unit, zone_id: str) -> dict:
    row = unit.conn.execute(
        "SELECT z.floor_id, b.site_id FROM zone z JOIN floor f ON f.id = z.floor_id "
        "JOIN building b ON b.id = f.building_id WHERE z.id = %s",
        (zone_id,),
    ).fetchone()
    if not row:
        raise errors.NotFound("no_such_zone", field="zone_id")
    return {"floor_id": row["floor_id"], "site_id": row["site_id"]}


def _adapt(values: dict) -> dict:
    return {k: Jsonb(v) if k == "attributes" else v for k, v in values.items()}


def insert(unit: Unit, entity: str, data: dict) -> dict:
    values = dict(data)
    if entity == "site":
        values["organisation_id"] = default_organisation(unit)
    if entity == "resource":
        values.update(_resource_placement(unit, values["zone_id"]))
    columns = list(values)
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier(entity),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
    )
    try:
        with unit.conn.transaction():
            row = unit.conn.execute(query, _adapt(values)).fetchone()
    except psycopg.errors.UniqueViolation:
        raise errors.Invalid(msg("a_entity_with_this_code_already", entity=entity),
                             field="code") from None
    except psycopg.errors.ForeignKeyViolation:
        raise errors.NotFound("the_parent_or_team_does_not", field=PARENT.get(entity)) from None
    return get(unit, entity, str(row["id"]))


def update(unit: Unit, entity: str, entity_id: str, data: dict) -> dict:
    values = dict(data)
    if entity == "resource" and "zone_id" in values:
        values.update(_resource_placement(unit, values["zone_id"]))
    query = sql.SQL("UPDATE {} SET {}, updated_at = now() WHERE id = {}").format(
        sql.Identifier(entity),
        sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in values
        ),
        sql.Placeholder("__id"),
    )
    try:
        with unit.conn.transaction():
            cursor = unit.conn.execute(query, {**_adapt(values), "__id": entity_id})
    except psycopg.errors.UniqueViolation:
        raise errors.Invalid(msg("a_entity_with_this_code_already", entity=entity),
                             field="code") from None
    except psycopg.errors.ForeignKeyViolation:
        raise errors.NotFound("the_parent_or_team_does_not", field=PARENT.get(entity)) from None
    except psycopg.errors.CheckViolation:
        raise errors.Invalid("opening_midday_and_closing_times_must",
                             field="midday_time") from None
    if cursor.rowcount == 0:
        raise errors.NotFound(msg("no_such_entity", entity=entity), field=f"{entity}_id")
    return get(unit, entity, entity_id)


def delete(unit: Unit, entity: str, entity_id: str) -> None:
    """Resources are deactivated (their bookings stay readable); containers
    are deleted only when empty."""
    if entity == "resource":
        cursor = unit.conn.execute(
            "UPDATE resource SET active = false, updated_at = now() WHERE id = %s AND active",
            (entity_id,),
        )
        if cursor.rowcount == 0:
            raise errors.NotFound("no_such_resource", field="resource_id")
        return
    child = CHILD[entity]
    parent_column = PARENT[child]
    active = " AND active" if child == "resource" else ""
    if unit.conn.execute(
        f"SELECT 1 FROM {child} WHERE {parent_column} = %s{active} LIMIT 1", (entity_id,)
    ).fetchone():
        raise errors.NotEmpty(msg("this_entity_still_holds_child_s", entity=entity, child=child))
    try:
        with unit.conn.transaction():
            cursor = unit.conn.execute(f"DELETE FROM {entity} WHERE id = %s", (entity_id,))
    except psycopg.errors.ForeignKeyViolation:
        raise errors.NotEmpty(msg("this_entity_is_still_referenced_past", entity=entity)) from None
    if cursor.rowcount == 0:
        raise errors.NotFound(msg("no_such_entity", entity=entity), field=f"{entity}_id")


def site_tree(unit: Unit, site_id: str) -> dict:
    site = plain(unit.site_row(site_id))
    buildings = unit.conn.execute(
        f"SELECT {TABLE_COLUMNS['building']} FROM building WHERE site_id = %s ORDER BY code", (site_id,)
    ).fetchall()
    floors = unit.conn.execute(
        f"SELECT {TABLE_COLUMNS['floor']} FROM floor WHERE building_id = ANY(%s) ORDER BY level, code",
        ([b["id"] for b in buildings],),
    ).fetchall()
    zones = unit.conn.execute(
        f"SELECT {TABLE_COLUMNS['zone']} FROM zone WHERE floor_id = ANY(%s) ORDER BY code",
        ([f["id"] for f in floors],),
    ).fetchall()
    tree = []
    for b in buildings:
        b_floors = []
        for f in (f for f in floors if f["building_id"] == b["id"]):
            b_floors.append({**plain(f), "zones": [plain(z) for z in zones if z["floor_id"] == f["id"]]})
        tree.append({**plain(b), "floors": b_floors})
    return {"site": site, "buildings": tree}
