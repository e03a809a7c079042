"""Floor plan images in the gateway database (table ``floor_plan``)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import dict_row


@dataclass(frozen=True)
class PlanInfo:
    floor_id: uuid.UUID
    content_type: str
    width: float
    height: float
    sha256: str
    updated_at: datetime

    def as_dict(self) -> dict:
        return {"floor_id": str(self.floor_id), "content_type": self.content_type,
                "width": self.width, "height": self.height, "sha256": self.sha256,
                "updated_at": self.updated_at.isoformat()}


class FloorPlanStore:
    def __init__(self, database_url: str, *, max_size: int = 3, timeout: float = 3.0):
        from psycopg_pool import AsyncConnectionPool

        self._pool = AsyncConnectionPool(
            database_url, min_size=1, max_size=max_size, timeout=timeout, open=False,
            kwargs={"autocommit": True, "row_factory": dict_row}, name="gateway-floor-plans",
        )

    async def open(self) -> None:
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    async def save(self, floor_id: uuid.UUID, content_type: str, width: float, height: float,
                   data: bytes, updated_by: str) -> PlanInfo:
        digest = hashlib.sha256(data).hexdigest()
        async with self._pool.connection() as conn:
            row = await (await conn.execute(
                "INSERT INTO floor_plan (floor_id, content_type, width, height, data, sha256, updated_by) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (floor_id) DO UPDATE SET content_type = EXCLUDED.content_type, "
                "width = EXCLUDED.width, height = EXCLUDED.height, data = EXCLUDED.data, "
                "sha256 = EXCLUDED.sha256, updated_by = EXCLUDED.updated_by, updated_at = now() "
                "RETURNING floor_id, content_type, width, height, sha256, updated_at",
                (floor_id, content_type, width, height, data, digest, updated_by))).fetchone()
        return PlanInfo(**row)

    async def info(self, floor_id: uuid.UUID) -> PlanInfo | None:
        async with self._pool.connection() as conn:
            row = await (await conn.execute(
                "SELECT floor_id, content_type, width, height, sha256, updated_at FROM floor_plan "
                "WHERE floor_id = %s", (floor_id,))).fetchone()
        return PlanInfo(**row) if row else None

    async def image(self, floor_id: uuid.UUID) -> tuple[PlanInfo, bytes] | None:
        async with self._pool.connection() as conn:
            row = await (await conn.execute(
                "SELECT floor_id, content_type, width, height, sha256, updated_at, data FROM floor_plan "
                "WHERE floor_id = %s", (floor_id,))).fetchone()
        if row is None:
            return None
        data = bytes(row.pop("data"))
        return PlanInfo(**row), data

    async def delete(self, floor_id: uuid.UUID) -> bool:
        async with self._pool.connection() as conn:
            cursor = await conn.execute("DELETE FROM floor_plan WHERE floor_id = %s", (floor_id,))
            return cursor.rowcount > 0
