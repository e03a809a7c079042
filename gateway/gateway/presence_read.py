"""The presence service's published read model, read straight from Redis.

"Where is X" is asked all day, by people and bots: answering it over RPC
would cost a broker round trip and a nameko worker per question. Presence
publishes its answers in Redis under a documented, versioned key schema
(docs/architecture.md, "Presence read model"; written only by presence).
The gateway reads them here and applies the person's privacy choice itself
(:func:`may_see`, the same rule as ``presence.domain.privacy``; a test
checks both agree). One question costs one Redis round trip.

Whenever the read model cannot answer for sure (no ``meta``, the day not
``ready`` after a flush, a person the directory does not know yet, another
day than today), the methods return ``None`` and the route asks the
service over RPC, which answers from its own database.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

META_TTL = 5.0


def may_see(viewer_id: str | None, viewer_role: str, viewer_team_ids, subject_id: str,
            visibility: str, subject_team_ids) -> bool:
    """Presence's privacy rule (``presence.domain.privacy.may_see``)."""
    if viewer_id is not None and viewer_id == subject_id:
        return True
    if viewer_role == "device":
        return False
    if visibility == "everyone":
        return True
    if visibility == "teams":
        return viewer_id is not None and bool(set(viewer_team_ids) & set(subject_team_ids))
    return False


def hidden(reach: list) -> dict:
    return {"status": "not_available", "signal": None, "since": None, "until": None,
            "label": None, "place": None, "plan": None, "reach": reach}


def unknown(reach: list) -> dict:
    return {"status": "unknown", "signal": None, "since": None, "until": None,
            "label": None, "place": None, "plan": None, "reach": reach}


def presence_at(doc: dict, reach: list, at: float) -> dict:
    for segment in doc.get("timeline", ()):
        if datetime.fromisoformat(segment["from"]).timestamp() <= at < \
                datetime.fromisoformat(segment["until"]).timestamp():
            return segment["presence"]
    return unknown(reach)


def roster_field_visible(viewer_id, viewer_role, viewer_team_ids, field: str, team_id: str | None) -> bool:
    """A roster field is ``{visibility}|{sort key}|{person_id}|{team ids}``."""
    visibility, _, rest = field.partition("|")
    _, _, rest = rest.partition("|")
    person_id, _, teams = rest.partition("|")
    team_ids = teams.split(",") if teams else []
    if team_id is not None and team_id not in team_ids:
        return False
    return may_see(viewer_id, viewer_role, viewer_team_ids, person_id, visibility, team_ids)


class PresenceReadModel:
    def __init__(self, redis_url: str, prefix: str):
        self._url = redis_url
        self.p = prefix + "v1:"
        self._redis: aioredis.Redis | None = None
        self._meta: dict | None = None
        self._meta_until = 0.0

    async def open(self) -> None:
        self._redis = aioredis.Redis.from_url(self._url, decode_responses=True, socket_timeout=2,
                                              socket_connect_timeout=2)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    @property
    def redis(self) -> aioredis.Redis:
        if self._redis is None:
            raise RuntimeError("read model not opened")
        return self._redis

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:  # readiness: any failure means "not ready"
            return False

    async def meta(self) -> dict | None:
        now = time.monotonic()
        if now >= self._meta_until:
            meta = await self.redis.hgetall(self.p + "meta")
            if meta.get("timezone"):
                meta["tz"] = ZoneInfo(meta["timezone"])
                self._meta = meta
            else:
                self._meta = None
            self._meta_until = now + META_TTL
        return self._meta

    async def today(self) -> date | None:
        meta = await self.meta()
        return datetime.now(meta["tz"]).date() if meta else None

    async def horizon_days(self) -> int:
        meta = await self.meta()
        return int(meta.get("horizon_days", 0)) if meta else 0

    async def entry(self, person_id: str) -> dict | None:
        raw = await self.redis.hget(self.p + "directory", person_id)
        return json.loads(raw) if raw else None

    async def team_ids(self, person_id: str | None) -> frozenset[str] | None:
        """The person's teams; None if the directory does not know them (yet)."""
        if person_id is None:
            return frozenset()
        entry = await self.entry(person_id)
        return frozenset(entry.get("team_ids", [])) if entry else None

    async def where_is(self, viewer_id: str | None, viewer_role: str, person_id: str) -> dict | None:
        """``{"person", "presence"}`` now, or None when the service must answer."""
        day = await self.today()
        if day is None:
            return None
        ids = [person_id] if viewer_id is None or viewer_id == person_id else [person_id, viewer_id]
        pipe = self.redis.pipeline(transaction=False)
        pipe.hmget(self.p + "directory", ids)
        pipe.get(f"{self.p}day:{day.isoformat()}:{person_id}")
        pipe.exists(f"{self.p}ready:{day.isoformat()}")
        entries, doc, ready = await pipe.execute()
        if not ready or entries[0] is None:
            return None
        if len(entries) > 1 and entries[1] is None:
            return None  # the caller is not in the directory yet: their teams are unknown here
        subject = json.loads(entries[0])
        viewer_teams = json.loads(entries[1]).get("team_ids", []) if len(entries) > 1 else \
            subject.get("team_ids", [])
        reach = subject.get("reach", [])
        if not may_see(viewer_id, viewer_role, viewer_teams, person_id,
                       subject.get("visibility", "everyone"), subject.get("team_ids", [])):
            return {"person": subject["card"], "presence": hidden(reach)}
        presence = presence_at(json.loads(doc), reach, time.time()) if doc else unknown(reach)
        return {"person": subject["card"], "presence": presence}

    async def roster(self, viewer_id: str | None, viewer_role: str, day: date, site_id: str | None,
                     team_id: str | None) -> str | None:
        """The roster as a JSON text (entries are concatenated, not re-encoded),
        or None when the service must answer."""
        today = await self.today()
        if today is None or not 0 <= (day - today).days <= await self.horizon_days():
            return None
        ready = await self.redis.exists(f"{self.p}ready:{day.isoformat()}")
        if not ready:
            return None
        viewer_teams = await self.team_ids(viewer_id)
        if viewer_teams is None:
            return None
        sites = [site_id] if site_id else sorted(await self.redis.smembers(f"{self.p}roster-sites:{day.isoformat()}"))
        pipe = self.redis.pipeline(transaction=False)
        for site in sites:
            pipe.hgetall(f"{self.p}roster:{day.isoformat()}:{site}")
        rows = []
        for fields in await pipe.execute():
            for field, value in fields.items():
                if roster_field_visible(viewer_id, viewer_role, viewer_teams, field, team_id):
                    parts = field.split("|", 3)
                    rows.append((parts[1], parts[2], value))
        rows.sort()
        head = json.dumps({"date": day.isoformat(), "site_id": site_id, "team_id": team_id})
        return head[:-1] + ', "people": [' + ",".join(r[2] for r in rows) + "]}"
