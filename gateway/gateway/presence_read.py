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

Hot answers come from memory. A person's directory entry and today's
document hold the whole day (the timeline), so they stay right as time
passes; presence publishes ``presence.changed`` whenever either changes, and
the gateway's live hub forwards those events here (:meth:`forget`). As in
the catalogue cache: while those events cannot arrive (broker lost) the
memory is bypassed and emptied; an answer read while its person was
invalidated is not kept (generation counters); entries also expire after
``CACHE_TTL`` seconds, and the memory is bounded.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry, Counter

META_TTL = 5.0
CACHE_TTL = 300.0
CACHE_MAX = 50_000


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


def _text(value) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A directory entry as the where-is answer needs it."""

    card: str                 # JSON text
    visibility: str
    team_ids: frozenset
    hidden: str               # JSON text of the not_available presence
    unknown: str              # JSON text of the unknown presence


def prepare_entry(raw: str) -> Prepared:
    entry = json.loads(raw)
    reach = entry.get("reach", [])
    return Prepared(_text(entry["card"]), entry.get("visibility", "everyone"),
                    frozenset(entry.get("team_ids", [])), _text(hidden(reach)), _text(unknown(reach)))


def prepare_day(raw: str | None) -> tuple | None:
    """A day document as ((start, end, presence JSON text), ...), or None (nothing known)."""
    if raw is None:
        return None
    doc = json.loads(raw)
    return tuple((datetime.fromisoformat(s["from"]).timestamp(), datetime.fromisoformat(s["until"]).timestamp(),
                  _text(s["presence"])) for s in doc.get("timeline", ()))


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
    def __init__(self, redis_url: str, prefix: str, registry: CollectorRegistry | None = None):
        self._url = redis_url
        self.reads = Counter("escale_gateway_presence_reads_total",
                             "Presence reads at the gateway: memory, Redis, or left to the service",
                             ["source"], registry=registry or CollectorRegistry())
        self.p = prefix + "v1:"
        self._redis: aioredis.Redis | None = None
        self._meta: dict | None = None
        self._meta_until = 0.0
        self._live = False
        # Prepared answers, mostly JSON texts: a hit parses and encodes nothing, and
        # a few objects per person keep full garbage collections short.
        self._entries: dict[str, tuple[float, Prepared]] = {}            # person -> (expires, entry)
        self._docs: dict[str, dict[str, tuple[float, tuple | None]]] = {}  # person -> date -> (expires, day)
        self._rosters: dict[tuple[str, str], tuple[str, list]] = {}    # (date, site) -> (version, rows)
        self._ready: set[str] = set()
        self._generation: dict[str, int] = {}
        self._epoch = 0

    # -- the memory ---------------------------------------------------------------------
    def set_live(self, live: bool) -> None:
        """Events arrive (True) or may be missed (False): either way, start afresh."""
        self._live = live
        self.clear()

    def clear(self) -> None:
        self._rosters.clear()
        self._entries.clear()
        self._docs.clear()
        self._ready.clear()
        self._generation.clear()
        self._epoch += 1

    def forget(self, person_id: str | None) -> None:
        if not isinstance(person_id, str):
            return
        self._entries.pop(person_id, None)
        self._docs.pop(person_id, None)
        self._generation[person_id] = self._generation.get(person_id, 0) + 1

    def _cached(self, person_ids: list[str], day: str, now: float):
        if not self._live or day not in self._ready:
            return None
        entries = []
        for pid in person_ids:
            hit = self._entries.get(pid)
            if hit is None or hit[0] < now:
                return None
            entries.append(hit[1])
        doc = self._docs.get(person_ids[0], {}).get(day)
        if doc is None or doc[0] < now:
            return None
        return entries, doc[1]

    def _keep(self, person_ids: list[str], day: str, entries: list, doc,
              generations: dict[str, int], epoch: int, now: float) -> None:
        if not self._live or epoch != self._epoch or any(
                self._generation.get(pid, 0) != g for pid, g in generations.items()):
            return  # invalidated while we were reading: do not keep what we read
        if len(self._entries) > CACHE_MAX:
            self.clear()
            return
        expires = now + CACHE_TTL
        for pid, entry in zip(person_ids, entries):
            self._entries[pid] = (expires, entry)
        self._docs.setdefault(person_ids[0], {})[day] = (expires, doc)
        self._ready.add(day)

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

    async def where_is(self, viewer_id: str | None, viewer_role: str, person_id: str) -> str | None:
        """``{"person", "presence"}`` now as a JSON text, or None when the service must answer."""
        day = await self.today()
        if day is None:
            return None
        date = day.isoformat()
        ids = [person_id] if viewer_id is None or viewer_id == person_id else [person_id, viewer_id]
        clock = time.monotonic()
        cached = self._cached(ids, date, clock)
        if cached is not None:
            self.reads.labels("memory").inc()
            entries, segments = cached
        else:
            generations = {pid: self._generation.get(pid, 0) for pid in ids}
            epoch = self._epoch
            pipe = self.redis.pipeline(transaction=False)
            pipe.hmget(self.p + "directory", ids)
            pipe.get(f"{self.p}day:{date}:{person_id}")
            pipe.exists(f"{self.p}ready:{date}")
            entries, doc, ready = await pipe.execute()
            if not ready or any(e is None for e in entries):
                # not built yet, or someone the directory does not know (yet): the
                # service answers (an unknown caller's teams are unknown here)
                self.reads.labels("service").inc()
                return None
            self.reads.labels("redis").inc()
            entries = [prepare_entry(e) for e in entries]
            segments = prepare_day(doc)
            self._keep(ids, date, entries, segments, generations, epoch, clock)
        subject = entries[0]
        viewer_teams = entries[1].team_ids if len(entries) > 1 else subject.team_ids
        if not may_see(viewer_id, viewer_role, viewer_teams, person_id, subject.visibility,
                       subject.team_ids):
            presence = subject.hidden
        else:
            presence = subject.unknown
            now = time.time()
            for start, end, text in segments or ():
                if start <= now < end:
                    presence = text
                    break
        return '{"person": ' + subject.card + ', "presence": ' + presence + "}"

    async def roster(self, viewer_id: str | None, viewer_role: str, day: date, site_id: str | None,
                     team_id: str | None) -> bytes | None:
        """The roster as UTF-8 JSON, or None when the service must answer.

        Entries are kept encoded and concatenated, never parsed or re-encoded:
        a 1,400-person site is most of a megabyte, and encoding it per request
        cost as much as everything else the answer needs."""
        today = await self.today()
        if today is None or not 0 <= (day - today).days <= await self.horizon_days():
            return None
        ready = await self.redis.exists(f"{self.p}ready:{day.isoformat()}")
        if not ready:
            return None
        viewer_teams = await self.team_ids(viewer_id)
        if viewer_teams is None:
            return None
        date = day.isoformat()
        sites = [site_id] if site_id else sorted(await self.redis.smembers(f"{self.p}roster-sites:{date}"))
        # Each roster hash has a version that presence moves with every change
        # to it: a roster unchanged since the last question is not read again.
        versions = await self.redis.mget([f"{self.p}roster-version:{date}:{site}" for site in sites]) \
            if sites else []
        stale = [(site, version) for site, version in zip(sites, versions)
                 if version is None or self._rosters.get((date, site), ("",))[0] != version]
        fresh: dict[str, list] = {}
        if stale:
            pipe = self.redis.pipeline(transaction=False)
            for site, _ in stale:
                pipe.hgetall(f"{self.p}roster:{date}:{site}")
            for (site, version), fields in zip(stale, await pipe.execute()):
                rows = []
                for field, value in fields.items():
                    visibility, sort_key, person, teams = field.split("|", 3)
                    rows.append((sort_key, person, visibility, teams.split(",") if teams else [],
                                 value.encode()))
                rows.sort()
                fresh[site] = rows
                if version is not None and len(self._rosters) < 1000:
                    self._rosters[(date, site)] = (version, rows)
        chosen = []
        for site in sites:
            rows = fresh[site] if site in fresh else self._rosters[(date, site)][1]
            chosen.extend(r for r in rows
                          if (team_id is None or team_id in r[3])
                          and may_see(viewer_id, viewer_role, viewer_teams, r[1], r[2], r[3]))
        if len(sites) > 1:
            chosen.sort()
        head = json.dumps({"date": day.isoformat(), "site_id": site_id, "team_id": team_id}).encode()
        return head[:-1] + b', "people": [' + b",".join(r[4] for r in chosen) + b"]}"
