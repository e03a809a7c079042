"""What the gateway itself holds about a person: tokens, sessions, feeds
(gateway database) and keys under its Redis prefix.

Export gives metadata only, never a secret (no token hash, no ID token).
Erasure deletes the person's tokens and sessions (a deletion notifies every
gateway, so they are refused at once) and their calendar feeds, forgets
them as the creator of other feeds and as the uploader of floor plans, and
deletes Redis keys naming them or their tokens. Audit entries stay: they
hold ids only and follow the audit-log retention period.
"""

from __future__ import annotations

import uuid
from datetime import datetime

SECRET_COLUMNS = {"token_hash", "id_token", "token"}


def _plain(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if key in SECRET_COLUMNS:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, list):
            value = [str(v) for v in value]
        out[key] = value
    return out


async def _has_table(conn, name: str) -> bool:
    cur = await conn.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (name,))
    return (await cur.fetchone())["present"]


class PersonRecords:
    def __init__(self, pool):
        self._pool = pool

    async def export(self, person_id: uuid.UUID, email: str | None) -> dict:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT * FROM api_token WHERE person_id = %s OR lower(email) = lower(%s) "
                "ORDER BY created_at", (person_id, email or ""))
            tokens = [_plain(r) for r in await cur.fetchall()]
            feeds = []
            if await _has_table(conn, "feed_token"):
                cur = await conn.execute(
                    "SELECT * FROM feed_token WHERE person_id = %s ORDER BY created_at", (person_id,))
                feeds = [_plain(r) for r in await cur.fetchall()]
            plans = []
            if email and await _has_table(conn, "floor_plan"):
                cur = await conn.execute("SELECT floor_id, updated_at FROM floor_plan "
                                         "WHERE lower(updated_by) = lower(%s)", (email,))
                plans = [_plain(r) for r in await cur.fetchall()]
        return {"api_tokens": [t for t in tokens if t.get("kind", "api") != "session"],
                "sessions": [t for t in tokens if t.get("kind") == "session"],
                "calendar_feeds": feeds, "floor_plans_uploaded": plans}

    async def erase(self, person_id: uuid.UUID, email: str | None) -> dict:
        async with self._pool.connection() as conn:
            async with conn.transaction():
                cur = await conn.execute(
                    "DELETE FROM api_token WHERE person_id = %s OR lower(email) = lower(%s) RETURNING id",
                    (person_id, email or ""))
                token_ids = [str(r["id"]) for r in await cur.fetchall()]
                feeds = 0
                if await _has_table(conn, "feed_token"):
                    cur = await conn.execute("DELETE FROM feed_token WHERE person_id = %s", (person_id,))
                    feeds = cur.rowcount
                    await conn.execute("UPDATE feed_token SET created_by = NULL WHERE created_by = %s",
                                       (person_id,))
                if email and await _has_table(conn, "floor_plan"):
                    await conn.execute("UPDATE floor_plan SET updated_by = '' "
                                       "WHERE lower(updated_by) = lower(%s)", (email,))
        return {"tokens": token_ids, "feeds": feeds}


async def scrub_redis(client, prefix: str, needles: list[str]) -> int:
    """Delete keys under ``prefix`` whose name or (string) value contains a needle."""
    needles = [n.lower() for n in needles if n]
    deleted = 0
    async for key in client.scan_iter(match=f"{prefix}*", count=500):
        name = key.decode() if isinstance(key, bytes) else key
        hit = any(n in name.lower() for n in needles)
        if not hit and await client.type(key) in (b"string", "string"):
            value = await client.get(key)
            if value is not None and len(value) <= 65536:
                text = value.decode(errors="replace") if isinstance(value, bytes) else value
                hit = any(n in text.lower() for n in needles)
        if hit:
            deleted += await client.delete(key)
    return deleted
