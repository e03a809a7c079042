"""Request and response models of the presence API (``routes/presence.py``).

The same conventions as ``schemas``: strict bodies that refuse unknown
fields, converting queries, and response models that document what the
presence service returns (docs/architecture.md, "Presence service RPC").
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from .schemas import Body, Day, Out, Period, Query, QueryWhen, Team, When

PlanStatus = Literal["on_site", "remote", "off", "mission"]
SlotStatus = Literal["on_site", "remote", "off", "mission", "unknown"]
Status = Literal["on_site", "remote", "off", "mission", "in_meeting", "do_not_disturb", "away",
                 "available", "unknown", "not_available"]
Signal = Literal["temporary_status", "check_in", "meeting", "booking", "day_plan"]
Visibility = Literal["everyone", "teams", "nobody"]
Channel = Literal["phone", "softphone", "video", "chat", "email"]


# --- queries -----------------------------------------------------------------------


class WhereIsQuery(Query):
    at: QueryWhen | None = Field(None, description="another moment of today or the coming 14 days")


class RosterQuery(Query):
    site: UUID | None = Field(None, description="a site; every site when absent")
    date: Day | None = Field(None, description="YYYY-MM-DD, today by default (up to 62 days ahead)")
    team: UUID | None = Field(None, description="only this team's members")


class PresenceSearchQuery(Query):
    q: str = Field(min_length=1, max_length=100, description="part of a name, accents and case ignored")
    limit: int = Field(10, ge=1, le=50)


class PlanQuery(Query):
    start: Day = Field(description="first day, YYYY-MM-DD")
    end: Day = Field(description="last day (included), at most 62 days after start")


# --- bodies ----------------------------------------------------------------------------


class PlanDayIn(Body):
    date: Day
    period: Period = "day"
    status: PlanStatus | None = Field(description="null removes the declaration")
    site_id: UUID | None = Field(None, description="required with on_site, refused otherwise")


class PlanBody(Body):
    days: list[PlanDayIn] = Field(min_length=1, max_length=124)


class PatternEntryIn(Body):
    weekday: int = Field(ge=1, le=7, description="ISO weekday, 1 = Monday")
    period: Period = "day"
    status: PlanStatus
    site_id: UUID | None = None


class PatternBody(Body):
    pattern: list[PatternEntryIn] = Field(max_length=14, description="replaces the whole weekly pattern")


class StatusBody(Body):
    kind: Literal["in_meeting", "do_not_disturb", "away", "available"]
    until: When = Field(description="after now, at most 12 hours ahead; the status then ends by itself")
    label: Annotated[str, Field(max_length=80)] | None = None


class PrivacyBody(Body):
    visibility: Visibility


class ContactBody(Body):
    softphone: Annotated[str, Field(max_length=200)] | None = None
    video_url: Annotated[str, Field(max_length=200)] | None = None
    chat_handle: Annotated[str, Field(max_length=200)] | None = None
    preferred_channel: Channel | Literal[""] | None = None


# --- responses ----------------------------------------------------------------------------


class PersonCard(Out):
    id: UUID
    display_name: str
    given_name: str | None = None
    family_name: str | None = None
    department: str | None = None
    job_title: str | None = None
    teams: list[Team] = []


class Place(Out):
    site_id: UUID | None = None
    site_name: str | None = None
    floor_id: UUID | None = None
    zone_id: UUID | None = None
    resource_id: UUID | None = None
    resource_code: str | None = None
    resource_name: str | None = None
    resource_kind: str | None = None


class Slot(Out):
    status: SlotStatus
    site_id: UUID | None = None
    source: Literal["declared", "booking", "pattern"] | None = None


class ReachChannel(Out):
    channel: Channel
    value: str
    href: str | None = None


class Presence(Out):
    status: Status
    signal: Signal | None = Field(None, description="which signal decided (precedence order)")
    since: str | None = None
    until: str | None = None
    label: str | None = None
    place: Place | None = None
    plan: Slot | None = None
    reach: list[ReachChannel] = Field([], description="how to reach them now, best first")


class WhereIs(Out):
    person: PersonCard
    presence: Presence


class PersonMatch(WhereIs):
    score: float


class PresenceSearch(Out):
    query: str
    matches: list[PersonMatch]


class DeskBooked(Place):
    booking_id: UUID | None = None
    start: str
    end: str
    status: str


class RosterEntry(Out):
    person: PersonCard
    site_id: UUID
    am: Slot
    pm: Slot
    desks: list[DeskBooked] = []


class Roster(Out):
    date: str
    site_id: UUID | None = None
    team_id: UUID | None = None
    people: list[RosterEntry]


class DayPlan(Out):
    date: str
    am: Slot
    pm: Slot


class PatternEntry(Out):
    weekday: int
    period: Period
    status: PlanStatus
    site_id: UUID | None = None


class Plan(Out):
    person_id: UUID
    days: list[DayPlan]
    pattern: list[PatternEntry] = []


class Pattern(Out):
    person_id: UUID
    pattern: list[PatternEntry]


class Privacy(Out):
    person_id: UUID
    visibility: Visibility


class Contact(PersonCard):
    email: str
    phone_extension: str | None = None
    softphone: str = ""
    video_url: str = ""
    chat_handle: str = ""
    preferred_channel: str = ""
