"""The audit log in the gateway database (table ``audit_log``, migration 0007).

Entries hold ids only (see the migration); writing one is a single insert
on its own small pool, so an audit write never waits behind token lookups.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from psycopg.rows import dict_row


@dataclass(frozen=True)
class AuditEntry:
    actor_token_id: uuid.UUID | None
    actor_person_id: uuid.UUID | None
    actor_role: str
    action: str
    operation: str
    method: str
    target: str | None
    target_person_id: uuid.UUID | None
    status: int


def _row(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, uuid.UUID):
            value = str(value)
        out[key] = value
    out["id"] = str(out["id"])
    return out


COLUMNS = ("id, at, actor_token_id, actor_person_id, actor_role, action, operation, method, "
           "target, target_person_id, status")


class AuditStore:
    def __init__(self, database_url: str, *, max_size: int = 3, timeout: float = 3.0):
        from psycopg_pool import AsyncConnectionPool

        self._pool = AsyncConnectionPool(
            database_url, min_size=1, max_size=max_size, timeout=timeout, open=False,
            kwargs={"autocommit": True, "row_factory": dict_row}, name="gateway-audit",
        )

    async def open(self) -> None:
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    async def record(self, entry: AuditEntry) -> None:
        data = asdict(entry)
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO audit_log (actor_token_id, actor_person_id, actor_role, action, operation, "
                "method, target, target_person_id, status) VALUES (%(actor_token_id)s, "
                "%(actor_person_id)s, %(actor_role)s, %(action)s, %(operation)s, %(method)s, "
                "%(target)s, %(target_person_id)s, %(status)s)", data)

    async def entries(self, actor: uuid.UUID | None = None, action: str | None = None,
                      since: datetime | None = None, person: uuid.UUID | None = None,
                      after: int | None = None, limit: int = 100) -> list[dict]:
        """Newest first; ``actor`` matches the actor's person or token id,
        ``person`` entries by or about that person; ``after``: older than that id."""
        clauses, params = [], []
        if actor is not None:
            clauses.append("(actor_person_id = %s OR actor_token_id = %s)")
            params += [actor, actor]
        if person is not None:
            clauses.append("(actor_person_id = %s OR target_person_id = %s)")
            params += [person, person]
        if action is not None:
            clauses.append("action = %s")
            params.append(action)
        if since is not None:
            clauses.append("at >= %s")
            params.append(since)
        if after is not None:
            clauses.append("id < %s")
            params.append(after)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {COLUMNS} FROM audit_log {where} ORDER BY id DESC LIMIT %s", [*params, limit])
            return [_row(r) for r in await cur.fetchall()]

    async def claim_run(self, job: str, day) -> bool:
        """True for the one gateway that runs ``job`` on ``day``."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO retention_run (job, last_day) VALUES (%s, %s) ON CONFLICT (job) DO UPDATE "
                "SET last_day = EXCLUDED.last_day, ran_at = now() "
                "WHERE retention_run.last_day < EXCLUDED.last_day RETURNING job", (job, day))
            return await cur.fetchone() is not None

    async def delete_before(self, cutoff: datetime) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM audit_log WHERE at < %s", (cutoff,))
            return cur.rowcount
