"""Presence's published read model in Redis.

Presence is the only writer. The gateway reads it directly (never writes):
this key schema is a published contract, versioned by the ``v1`` in every
key (docs/architecture.md, "Presence read model"). ``P`` is
``ESCALE_PRESENCE_REDIS_PREFIX`` (default ``escale:presence:``); dates are
local dates of the organisation's time zone (``meta``).

    P v1:meta                     hash   timezone, midday, horizon_days, built_at
    P v1:ready:{date}             string "1" once every person's {date} is written;
                                         absent: readers ask the service (RPC)
    P v1:directory                hash   person_id -> DirectoryEntry JSON
    P v1:directory:version        int    moves when the directory changes
    P v1:sites                    hash   site_id -> site name
    P v1:team:{team_id}           set    person ids (team index)
    P v1:day:{date}:{person_id}   string DayDoc JSON; absent = nothing known (unknown)
    P v1:roster:{date}:{site_id}  hash   "{visibility}|{sort key}|{person_id}|{team ids,}"
                                         -> RosterEntry JSON (API shape)
    P v1:roster-sites:{date}      set    site ids with a roster that day
    P v1:roster-version:{date}:{site_id}
                                  int    moves with every change to that roster (readers
                                         keep a roster until its version moves)
    P v1:transitions              zset   person_id -> epoch of their next status change
    P v1:lock:{name}              string short-lived locks between presence processes
    P v1:state:{name}             string presence's own bookkeeping (last directory sync)

Day keys (``ready``, ``day``, ``roster``, ``roster-sites``, ``roster-version``) expire an hour
after their day is over. A roster field carries what a reader needs to
filter and sort without parsing the entry (visibility, folded name, team
ids), so a 1,000-person roster is served by concatenating entries.

DirectoryEntry: ``{"card": PersonCard, "team_ids", "visibility", "contacts",
"reach"}`` (``reach``: channels in the person's default order, used when
the status is unknown or hidden). DayDoc: ``{"v": 1, "person_id", "date",
"am", "pm", "desks", "timeline": [{"from", "until", "presence": Presence}],
"roster": [[site_id, field]]}``.
"""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime
from typing import Iterable

import redis

GRACE_SECONDS = 3600


def dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def roster_field(visibility: str, sort_key: str, person_id: str, team_ids: Iterable[str]) -> str:
    return f"{visibility}|{sort_key}|{person_id}|{','.join(sorted(team_ids))}"


class ReadModel:
    def __init__(self, client: redis.Redis, prefix: str):
        self.r = client
        self.p = prefix + "v1:"

    # -- keys -----------------------------------------------------------------
    def k_meta(self) -> str: return self.p + "meta"
    def k_ready(self, day: date) -> str: return f"{self.p}ready:{day.isoformat()}"
    def k_directory(self) -> str: return self.p + "directory"
    def k_directory_version(self) -> str: return self.p + "directory:version"
    def k_sites(self) -> str: return self.p + "sites"
    def k_team(self, team_id: str) -> str: return f"{self.p}team:{team_id}"
    def k_day(self, day: date, person_id: str) -> str: return f"{self.p}day:{day.isoformat()}:{person_id}"
    def k_roster(self, day: date, site_id: str) -> str: return f"{self.p}roster:{day.isoformat()}:{site_id}"
    def k_roster_sites(self, day: date) -> str: return f"{self.p}roster-sites:{day.isoformat()}"
    def k_roster_version(self, day: date, site_id: str) -> str:
        return f"{self.p}roster-version:{day.isoformat()}:{site_id}"
    def k_transitions(self) -> str: return self.p + "transitions"
    def k_lock(self, name: str) -> str: return f"{self.p}lock:{name}"
    def k_state(self, name: str) -> str: return f"{self.p}state:{name}"

    def ping(self) -> bool:
        return bool(self.r.ping())

    # -- meta and readiness ---------------------------------------------------------
    def meta(self) -> dict:
        return self.r.hgetall(self.k_meta())

    def write_meta(self, timezone: str, midday: str, horizon_days: int, built_at: str) -> None:
        self.r.hset(self.k_meta(), mapping={"timezone": timezone, "midday": midday,
                                            "horizon_days": str(horizon_days), "built_at": built_at})

    def ready_days(self, days: list[date]) -> set[date]:
        if not days:
            return set()
        values = self.r.mget([self.k_ready(d) for d in days])
        return {d for d, v in zip(days, values) if v is not None}

    def mark_ready(self, day: date, expire_at: datetime) -> None:
        self.r.set(self.k_ready(day), "1", exat=int(expire_at.timestamp()) + GRACE_SECONDS)

    # -- directory ------------------------------------------------------------------
    def directory_entries(self, person_ids: Iterable[str]) -> dict[str, dict]:
        ids = list(dict.fromkeys(person_ids))
        if not ids:
            return {}
        values = self.r.hmget(self.k_directory(), ids)
        return {pid: json.loads(v) for pid, v in zip(ids, values) if v is not None}

    def all_directory(self) -> dict[str, dict]:
        return {k: json.loads(v) for k, v in self.r.hgetall(self.k_directory()).items()}

    def raw_directory(self, person_ids: Iterable[str] | None = None) -> dict[str, str]:
        """Entries as stored (JSON texts): everyone's, or only these people's."""
        if person_ids is None:
            return self.r.hgetall(self.k_directory())
        ids = list(dict.fromkeys(person_ids))
        values = self.r.hmget(self.k_directory(), ids) if ids else []
        return {pid: v for pid, v in zip(ids, values) if v is not None}

    def directory_version(self) -> int:
        return int(self.r.get(self.k_directory_version()) or 0)

    def write_directory(self, entries: dict[str, dict], removed: Iterable[str] = (),
                        old: dict[str, dict] | None = None) -> None:
        """Write entries (and remove people), keeping the team index in step."""
        removed = list(removed)
        if not entries and not removed:
            return
        old = old if old is not None else self.directory_entries(list(entries) + removed)
        pipe = self.r.pipeline(transaction=True)
        for pid, entry in entries.items():
            pipe.hset(self.k_directory(), pid, dumps(entry))
            before = set(old.get(pid, {}).get("team_ids", []))
            after = set(entry.get("team_ids", []))
            for tid in before - after:
                pipe.srem(self.k_team(tid), pid)
            for tid in after - before:
                pipe.sadd(self.k_team(tid), pid)
        for pid in removed:
            pipe.hdel(self.k_directory(), pid)
            for tid in old.get(pid, {}).get("team_ids", []):
                pipe.srem(self.k_team(tid), pid)
        pipe.incr(self.k_directory_version())
        pipe.execute()

    def team_members(self, team_id: str) -> set[str]:
        return self.r.smembers(self.k_team(team_id))

    def sites(self) -> dict[str, str]:
        return self.r.hgetall(self.k_sites())

    def write_sites(self, sites: dict[str, str]) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(self.k_sites())
        if sites:
            pipe.hset(self.k_sites(), mapping=sites)
        pipe.execute()

    # -- days -------------------------------------------------------------------
    def day_docs(self, keys: list[tuple[date, str]]) -> dict[tuple[date, str], dict]:
        if not keys:
            return {}
        values = self.r.mget([self.k_day(d, pid) for d, pid in keys])
        return {key: json.loads(v) for key, v in zip(keys, values) if v is not None}

    def day_doc(self, day: date, person_id: str) -> dict | None:
        raw = self.r.get(self.k_day(day, person_id))
        return json.loads(raw) if raw is not None else None

    def write_days(self, writes: list[tuple[date, str, dict | None, list[tuple[str, str, dict]], datetime]],
                   old: dict[tuple[date, str], dict]) -> None:
        """Replace day documents and their roster entries atomically.

        ``writes``: (date, person_id, doc or None, [(site_id, field, entry)], day end).
        ``old``: the documents being replaced (their roster pointers are removed).
        """
        if not writes:
            return
        pipe = self.r.pipeline(transaction=True)
        for day, pid, doc, rosters, day_end in writes:
            exat = int(day_end.timestamp()) + GRACE_SECONDS
            previous = old.get((day, pid))
            new_pointers = {(site, field) for site, field, _ in rosters}
            touched = set()
            for site, field in (tuple(x) for x in (previous or {}).get("roster", [])):
                if (site, field) not in new_pointers:
                    pipe.hdel(self.k_roster(day, site), field)
                    touched.add(site)
            for site, field, entry in rosters:
                pipe.hset(self.k_roster(day, site), field, dumps(entry))
                pipe.expireat(self.k_roster(day, site), exat)
                pipe.sadd(self.k_roster_sites(day), site)
                pipe.expireat(self.k_roster_sites(day), exat)
                touched.add(site)
            for site in touched:
                pipe.incr(self.k_roster_version(day, site))
                pipe.expireat(self.k_roster_version(day, site), exat)
            if doc is None:
                pipe.delete(self.k_day(day, pid))
            else:
                pipe.set(self.k_day(day, pid), dumps(doc), exat=exat)
        pipe.execute()

    def roster(self, day: date, site_id: str) -> dict[str, str]:
        return self.r.hgetall(self.k_roster(day, site_id))

    def roster_sites(self, day: date) -> set[str]:
        return self.r.smembers(self.k_roster_sites(day))

    # -- status changes in time --------------------------------------------------------
    def schedule(self, changes: dict[str, float | None]) -> None:
        """Next change time (epoch seconds) per person, never later than one
        already scheduled: a change that is due stays due until it is handled
        (an early one only causes an extra, harmless, presence.changed)."""
        changes = {pid: at for pid, at in changes.items() if at is not None}
        if changes:
            self.r.zadd(self.k_transitions(), changes, lt=True)

    def claim_due(self, now: float, limit: int = 500) -> list[str]:
        """People whose status changes now, each claimed by one process only."""
        due = self.r.zrangebyscore(self.k_transitions(), "-inf", now, start=0, num=limit)
        if not due:
            return []
        pipe = self.r.pipeline(transaction=False)
        for pid in due:
            pipe.zrem(self.k_transitions(), pid)
        return [pid for pid, removed in zip(due, pipe.execute()) if removed]

    def get_state(self, name: str) -> str | None:
        return self.r.get(self.k_state(name))

    def set_state(self, name: str, value: str) -> None:
        self.r.set(self.k_state(name), value)

    # -- locks ----------------------------------------------------------------------
    def try_lock(self, name: str, seconds: float) -> str | None:
        token = secrets.token_hex(8)
        if self.r.set(self.k_lock(name), token, nx=True, px=int(seconds * 1000)):
            return token
        return None

    def extend_lock(self, name: str, token: str, seconds: float) -> bool:
        if self.r.get(self.k_lock(name)) != token:
            return False
        return bool(self.r.pexpire(self.k_lock(name), int(seconds * 1000)))

    def unlock(self, name: str, token: str) -> None:
        if self.r.get(self.k_lock(name)) == token:
            self.r.delete(self.k_lock(name))


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5,
                                socket_connect_timeout=3, health_check_interval=30)
