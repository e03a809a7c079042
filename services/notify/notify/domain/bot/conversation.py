"""One question, one reply: the parser's question resolved against the
directory, presence and rooms through the ``Lookups`` port.

The asker decides what the reply may show: every presence call passes the
asker as the actor (``role: "bot"`` with the asker's ``person_id``) and the
presence service filters by its privacy rules. An asker the bot cannot map
to a person gets no presence at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from .. import timefmt
from . import answers
from .parser import Help, NotUnderstood, OnSite, Parsed, RoomFree, WhereIs, parse
from .text import fold, similarity

STRONG = 0.75          # a find_people score this high is a match, below it a suggestion
CLEAR_LEAD = 0.15      # the best match wins outright when this far ahead of the next
ROOM_SLOT = timedelta(minutes=30)
DEFAULT_TIME = time(9, 0)


class Unavailable(Exception):
    """A service the answer needs did not answer."""


class Lookups(Protocol):
    def person(self, person_id: str) -> dict | None: ...
    def find_people(self, actor: dict, q: str, at: str | None) -> list[dict]: ...
    def on_site(self, actor: dict, day: str) -> list[dict]: ...
    def rooms(self) -> list[dict]: ...
    def site(self, site_id: str) -> dict | None: ...
    def availability(self, actor: dict, start: str, end: str, site_id: str) -> list[dict]: ...


@dataclass(frozen=True)
class Reply:
    text: str
    language: str


def actor_of(person_id: str) -> dict:
    return {"person_id": person_id, "role": "bot", "site_ids": [], "room_id": None}


def reply(text: str, asker_id: str | None, now: datetime, lookups: Lookups,
          default_language: str = "fr", zone: str = "Europe/Paris") -> Reply:
    parsed: Parsed = parse(text)
    question = parsed.question
    asker = None
    if asker_id:
        try:
            asker = lookups.person(asker_id)
        except Unavailable:
            asker = None
    language = timefmt.lang_of(parsed.language or (asker or {}).get("language")
                               or default_language)
    if isinstance(question, Help):
        return Reply(answers.t(language, "help"), language)
    if isinstance(question, NotUnderstood):
        return Reply(answers.t(language, "not_understood") + answers.t(language, "help"), language)
    if not asker_id:
        return Reply(answers.t(language, "unknown_asker"), language)
    actor = actor_of(asker_id)
    today = now.astimezone(timefmt.zone(zone)).date()
    try:
        if isinstance(question, RoomFree):
            text_out = _room(question, actor, now, today, lookups, language, zone)
            if text_out is None:  # not a room after all: a person
                question = WhereIs(question.room, question.day)
            else:
                return Reply(text_out, language)
        if isinstance(question, WhereIs):
            return Reply(_where(question, actor, today, lookups, language, zone), language)
        if isinstance(question, OnSite):
            return Reply(_on_site(question, actor, asker, today, lookups, language), language)
    except Unavailable:
        return Reply(answers.t(language, "unavailable"), language)
    return Reply(answers.t(language, "help"), language)


def _where(q: WhereIs, actor: dict, today: date, lookups: Lookups, language: str,
           zone: str) -> str:
    day = q.day.resolve(today) if q.day else None
    at = None
    if day is not None and day != today:
        at = datetime.combine(day, time(10, 0), tzinfo=timefmt.zone(zone)).isoformat()
    matches = lookups.find_people(actor, q.name, at)
    strong = [m for m in matches if (m.get("score") or 0) >= STRONG]
    if not strong:
        return answers.no_match(q.name, [m["person"] for m in matches], language)
    exact = [m for m in strong if fold(m["person"].get("display_name") or "") == fold(q.name)]
    if len(exact) == 1:
        best = exact[0]
    elif len(strong) == 1 or strong[0]["score"] - strong[1]["score"] >= CLEAR_LEAD:
        best = strong[0]
    else:
        return answers.choose(q.name, [m["person"] for m in strong], language,
                              more=len(matches) > len(strong) and len(strong) >= answers.MAX_LIST)
    return answers.where_is(best["person"], best.get("presence") or {}, language, day, today,
                            zone)


def _team_matches(team: dict, wanted: str) -> bool:
    wanted = fold(wanted)
    for value in (team.get("code"), team.get("name")):
        if value and (fold(value) == wanted or similarity(value, wanted) >= 0.8):
            return True
    return False


def _on_site(q: OnSite, actor: dict, asker: dict | None, today: date, lookups: Lookups,
             language: str) -> str:
    day = q.day.resolve(today)
    roster = lookups.on_site(actor, day.isoformat())
    if q.team:
        kept = [e for e in roster
                if any(_team_matches(tm, q.team) for tm in (e.get("person") or {}).get("teams") or [])]
        return answers.on_site(kept, day, today, answers.t(language, "team_suffix",
                                                           team=q.team.upper()), language)
    team_ids = {tm.get("id") for tm in (asker or {}).get("teams") or []}
    if not team_ids:
        return answers.t(language, "no_teams_of_yours") + "\n" + \
            answers.on_site(roster, day, today, None, language)
    kept = [e for e in roster
            if team_ids & {tm.get("id") for tm in (e.get("person") or {}).get("teams") or []}]
    return answers.on_site(kept, day, today, answers.t(language, "your_teams"), language)


def _find_rooms(name: str, rooms: list[dict]) -> tuple[list[dict], list[dict]]:
    """(matches, suggestions) for a room name as typed, trying shorter
    prefixes of it ("loire fre" -> "loire")."""
    words = fold(name).split()
    for size in range(len(words), 0, -1):
        wanted = " ".join(words[:size])
        exact = [r for r in rooms if wanted in (fold(r.get("name") or ""), fold(r.get("code") or ""))
                 or fold(r.get("name") or "").removeprefix("salle ") == wanted]
        if exact:
            return exact, []
        close = [r for r in rooms
                 if max(similarity(r.get("name") or "", wanted),
                        similarity((r.get("name") or "").lower().removeprefix("salle "), wanted),
                        similarity(r.get("code") or "", wanted)) >= 0.8]
        if close:
            return close, []
    ranked = sorted(rooms, key=lambda r: -similarity(r.get("name") or "", name))
    return [], [r for r in ranked[:3] if similarity(r.get("name") or "", name) >= 0.5]


def _room(q: RoomFree, actor: dict, now: datetime, today: date, lookups: Lookups,
          language: str, zone: str) -> str | None:
    rooms = lookups.rooms()
    matches, suggestions = _find_rooms(q.room, rooms)
    if not matches:
        if not q.explicit:
            return None
        text = answers.t(language, "room_unknown", room=q.room)
        if suggestions:
            text += " " + answers.t(language, "suggest",
                                    names=", ".join(r.get("name") or "" for r in suggestions))
        return text
    if len(matches) > 1:
        names = []
        for r in matches[:answers.MAX_LIST]:
            site = lookups.site(r["site_id"]) or {}
            names.append(f"{r.get('name')} ({site.get('name', '?')})")
        return answers.t(language, "room_choose", room=q.room, names=", ".join(names))
    resource = matches[0]
    site = lookups.site(resource["site_id"]) or {}
    timezone = site.get("timezone") or zone
    tz = timefmt.zone(timezone)
    local_today = now.astimezone(tz).date()
    day = q.day.resolve(local_today) if q.day else local_today
    if q.time is None and day == local_today:
        start = now.astimezone(tz).replace(second=0, microsecond=0)
    else:
        hour, minute = q.time or (DEFAULT_TIME.hour, DEFAULT_TIME.minute)
        start = datetime.combine(day, time(hour, minute), tzinfo=tz)
    end = start + ROOM_SLOT
    resources = lookups.availability(actor, start.isoformat(), end.isoformat(), resource["site_id"])
    status = next((r.get("status") for r in resources if r.get("id") == resource["id"]), "booked")
    return answers.room(resource, site.get("name") or "", status, start, end, local_today, timezone,
                        language)
