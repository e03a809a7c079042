"""The people directory as other services read it: paged export with contacts.

Kept apart from ``store.py``: it only reads ``person``/``team`` and writes a
person's own contact fields, in the caller's transaction.
"""

from __future__ import annotations

import psycopg

from .store import plain

ENTRY_COLUMNS = (
    "p.id, p.email, p.display_name, p.given_name, p.family_name, p.department, p.job_title, "
    "p.phone_extension, p.language, p.active, p.softphone, p.video_url, p.chat_handle, "
    "p.preferred_channel, p.updated_at"
)
CONTACT_FIELDS = ("softphone", "video_url", "chat_handle", "preferred_channel")


def export(conn: psycopg.Connection, after: str | None, limit: int, updated_since=None,
           person_ids: list[str] | None = None) -> list[dict]:
    clauses, params = [], []
    if after is not None:
        clauses.append("p.id > %s::uuid")
        params.append(after)
    if updated_since is not None:
        clauses.append("p.updated_at >= %s")
        params.append(updated_since)
    if person_ids is not None:
        clauses.append("p.id = ANY(%s::uuid[])")
        params.append(person_ids)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = conn.execute(
        f"SELECT {ENTRY_COLUMNS} FROM person p {where} ORDER BY p.id LIMIT %s", [*params, limit]
    ).fetchall()
    ids = [r["id"] for r in rows]
    teams: dict = {i: [] for i in ids}
    if ids:
        for t in conn.execute(
            "SELECT m.person_id, t.id, t.code, t.name FROM team_member m JOIN team t ON t.id = m.team_id "
            "WHERE m.person_id = ANY(%s) ORDER BY t.name", (ids,),
        ).fetchall():
            teams[t["person_id"]].append({"id": t["id"], "code": t["code"], "name": t["name"]})
    return [plain({**r, "teams": teams[r["id"]]}) for r in rows]


def update_contact(conn: psycopg.Connection, person_id: str, fields: dict) -> bool:
    if not fields:
        return conn.execute("SELECT 1 FROM person WHERE id = %s", (person_id,)).fetchone() is not None
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)
    cur = conn.execute(
        f"UPDATE person SET {assignments}, updated_at = now() WHERE id = %(id)s",
        {**fields, "id": person_id},
    )
    return cur.rowcount == 1
