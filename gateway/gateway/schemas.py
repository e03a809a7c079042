"""Pydantic models of every request body, query and response of the API.

Request bodies are validated strictly (JSON types must match: ``"3"`` is not
a number, ``123`` is not an id) and unknown fields are refused. Query
strings are text by nature, so query models convert (``?limit=10``) but
still refuse unknown parameters.

Response models document what the booking service returns; the gateway
does not re-validate the service's answers (they pass through as given),
so the models allow extra fields.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date as Date, datetime, time as Time
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic_core import PydanticCustomError

MIN_YEAR, MAX_YEAR = 2000, 2100


# --- building blocks ----------------------------------------------------------


def _year_in_range(value):
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise PydanticCustomError("year_out_of_range", "year must be between 2000 and 2100")
    return value


def _query_offset(value):
    # In a query string an unescaped "+" arrives as a space: "09:00:00 01:00".
    if isinstance(value, str):
        return re.sub(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$", r"\1+\2", value)
    return value


When = Annotated[AwareDatetime, AfterValidator(_year_in_range)]
QueryWhen = Annotated[AwareDatetime, BeforeValidator(_query_offset), AfterValidator(_year_in_range)]
Day = Annotated[Date, AfterValidator(_year_in_range)]
Period = Literal["day", "morning", "afternoon"]
Kind = Literal["desk", "room", "equipment"]
BookingStatus = Literal["confirmed", "checked_in", "ended", "cancelled", "released"]
# Limits of the booking service's own validation (booking.domain.places).
Code = Annotated[str, Field(min_length=1, max_length=40)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=200)]


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError("timezone", "unknown IANA time zone") from None
    return value


TimeZone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_timezone)]


def _when_error(key: str, field: str):
    return PydanticCustomError(key, "{field}", {"field": field})


class Body(BaseModel):
    """A JSON request body: strict types, no unknown field."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """A query string: values converted from text, no unknown parameter."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Out(BaseModel):
    """A response shape (documentation; the service's extra fields pass through)."""

    model_config = ConfigDict(extra="allow")


# --- bookings -------------------------------------------------------------------


class BookingCreate(Body):
    """A slot (``start`` and ``end``) or a day part (``date`` and ``period``)."""

    resource_id: UUID
    start: When | None = Field(
        None, description="ISO 8601 with offset, e.g. 2026-03-10T09:00:00+01:00"
    )
    end: When | None = Field(None, description="ISO 8601 with offset; after start")
    date: Day | None = Field(None, description="YYYY-MM-DD, in the site's time zone")
    period: Period | None = Field(None, description="day (default with date), morning or afternoon")
    rrule: str | None = Field(
        None, min_length=1, max_length=200,
        description="RFC 5545 recurrence, e.g. FREQ=WEEKLY;BYDAY=TU;UNTIL=20270331",
    )
    title: str | None = Field(None, max_length=200)
    person_id: UUID | None = Field(None, description="admins booking for someone else")

    @model_validator(mode="after")
    def _one_form(self):
        slot = self.start is not None or self.end is not None
        day = self.date is not None or self.period is not None
        if slot and day:
            raise _when_error("booking_when", "date" if self.date is not None else "period")
        if day:
            if self.date is None:
                raise _when_error("missing", "date")
            return self
        if self.start is None:
            raise _when_error("booking_when" if self.end is None else "missing", "start")
        if self.end is None:
            raise _when_error("missing", "end")
        if self.end <= self.start:
            raise _when_error("end_before_start", "end")
        return self

    def to_request(self) -> dict:
        data = self.model_dump(mode="json", exclude_none=True)
        if "date" in data:
            data.setdefault("period", "day")
        return data


class BookingListQuery(Query):
    mine: bool = Field(False, description="1: only the caller's bookings")
    person_id: UUID | None = None
    from_: QueryWhen | None = Field(None, alias="from", description="bookings ending after this")
    to: QueryWhen | None = Field(None, description="bookings starting before this")
    status: BookingStatus | None = None
    resource_id: UUID | None = None

    @model_validator(mode="after")
    def _range(self):
        if self.from_ is not None and self.to is not None and self.to <= self.from_:
            raise _when_error("end_before_start", "to")
        if self.mine and self.person_id is not None:
            raise _when_error("mine_or_person", "person_id")
        return self


class CancelQuery(Query):
    scope: Literal["this", "following"] = Field(
        "this", description="this booking, or this and the following ones of its series"
    )


class Booking(Out):
    id: UUID
    status: BookingStatus
    start: datetime
    end: datetime
    resource_id: UUID
    resource_kind: Kind | None = None
    resource_name: str | None = None
    site_id: UUID | None = None
    floor_id: UUID | None = None
    zone_id: UUID | None = None
    person_id: UUID | None = Field(None, description="Who holds it (shown to them and managers); "
                                   "null for a walk-in booked at a room's door tablet")
    series_id: UUID | None = None
    period: Literal["day", "morning", "afternoon", "slot"] | None = None
    title: str | None = None
    source: str | None = None
    created_at: datetime | None = None
    checked_in_at: datetime | None = None


class Conflict(Out):
    id: UUID | None = None
    start: datetime | None = None
    end: datetime | None = None
    resource_id: UUID | None = None


class Skipped(Out):
    start: datetime
    end: datetime
    reason: str = Field(description="the error code that prevented this occurrence")
    message: str
    conflict: Conflict | None = None


class BookingSeries(Out):
    series_id: UUID
    bookings: list[Booking]
    skipped: list[Skipped]


class Cancelled(Out):
    cancelled: list[Booking]


# --- catalogue ---------------------------------------------------------------------


class Site(Out):
    id: UUID
    code: str
    name: str
    address: str | None = None
    timezone: str
    opening_time: str | None = None
    midday_time: str | None = None
    closing_time: str | None = None
    closed_weekdays: list[int] = []
    closed_dates: list[Date] = []
    holiday_country: str | None = None
    holiday_subdivision: str | None = None


class Zone(Out):
    id: UUID
    floor_id: UUID | None = None
    code: str
    name: str
    team_id: UUID | None = None


class Floor(Out):
    id: UUID
    building_id: UUID | None = None
    code: str
    name: str
    level: int | None = None
    zones: list[Zone] = []


class Building(Out):
    id: UUID
    site_id: UUID | None = None
    code: str
    name: str
    floors: list[Floor] = []


class SiteTree(Out):
    site: Site
    buildings: list[Building]


class Resource(Out):
    id: UUID
    site_id: UUID
    floor_id: UUID
    zone_id: UUID
    kind: Kind
    code: str
    name: str
    capacity: int
    attributes: dict[str, Any] = {}
    restricted_team_ids: list[UUID] = []
    x: float | None = None
    y: float | None = None


class ResourcesQuery(Query):
    site_id: UUID | None = None
    floor_id: UUID | None = None
    zone_id: UUID | None = None
    kind: Kind | None = None


ATTRIBUTE = re.compile(r"^[A-Za-z0-9_\-]{1,50}$")


def _attribute_list(value):
    if value is None or isinstance(value, list):
        return value
    items = [part.strip() for part in str(value).split(",") if part.strip()]
    if len(items) > 20 or not all(ATTRIBUTE.match(item) for item in items):
        raise PydanticCustomError("bad_attribute", "bad attribute list")
    return items


class AvailabilityQuery(Query):
    site_id: UUID | None = None
    floor_id: UUID | None = None
    zone_id: UUID | None = None
    start: QueryWhen | None = None
    end: QueryWhen | None = None
    date: Day | None = None
    period: Period | None = None
    kind: Kind | None = None
    min_capacity: int | None = Field(None, ge=1, le=1000)
    attributes: Annotated[list[str] | None, BeforeValidator(_attribute_list)] = Field(
        None, description="comma-separated, e.g. docking_station,screens"
    )
    near_team_id: UUID | None = None

    @model_validator(mode="after")
    def _shape(self):
        places = [f for f in ("site_id", "floor_id", "zone_id") if getattr(self, f) is not None]
        if len(places) != 1:
            raise _when_error("one_place", places[1] if len(places) > 1 else "floor_id")
        slot = self.start is not None or self.end is not None
        day = self.date is not None or self.period is not None
        if slot and day:
            raise _when_error("availability_when", "date")
        if day:
            if self.date is None:
                raise _when_error("missing", "date")
        else:
            if self.start is None:
                raise _when_error("availability_when" if self.end is None else "missing", "start")
            if self.end is None:
                raise _when_error("missing", "end")
            if self.end <= self.start:
                raise _when_error("end_before_start", "end")
        return self

    def to_kwargs(self) -> dict:
        data = self.model_dump(mode="json", exclude_none=True)
        if "date" in data:
            data.setdefault("period", "day")
        return data


class AvailableResource(Resource):
    status: Literal["free", "booked", "mine", "restricted", "closed"]
    booking_id: UUID | None = None
    reason: str | None = None


class Availability(Out):
    start: datetime
    end: datetime
    resources: list[AvailableResource]


class Rules(Out):
    max_days_ahead: int
    max_recurring_days_ahead: int
    max_duration_minutes: int
    checkin_opens_minutes_before: int
    release_after_minutes: int
    checkin_deadline: str | None = Field(None, description="Local time HH:MM: bookings started "
                                         "before it and not checked in are released then")


class RulesBySite(Out):
    desk: Rules
    room: Rules
    equipment: Rules


class RulesBody(Body):
    """The rules to change; the others keep their current value."""

    max_days_ahead: int | None = Field(None, ge=0, le=3660)
    max_recurring_days_ahead: int | None = Field(None, ge=0, le=3660)
    max_duration_minutes: int | None = Field(None, ge=5, le=1440)
    checkin_opens_minutes_before: int | None = Field(None, ge=0, le=240)
    release_after_minutes: int | None = Field(None, ge=0, le=1440)
    checkin_deadline: str | None = Field(None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                                         description="Check in by this local time (HH:MM); null: none")

    @model_validator(mode="after")
    def _something(self):
        if not self.model_fields_set:
            raise _when_error("nothing_to_change", "max_days_ahead")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise _when_error("not_integer", name)
        return self


# --- admin: catalogue entities --------------------------------------------------------

Weekday = Annotated[int, Field(ge=1, le=7)]
ClockTime = Annotated[Time, Field(description="HH:MM")]


class SiteCreate(Body):
    code: Code
    name: Name
    address: Text | None = None
    timezone: TimeZone | None = Field(None, description="IANA time zone, default Europe/Paris")
    opening_time: ClockTime | None = None
    midday_time: ClockTime | None = None
    closing_time: ClockTime | None = None
    closed_weekdays: list[Weekday] | None = Field(None, max_length=7, description="1 = Monday")
    closed_dates: list[Day] | None = Field(None, max_length=400)
    holiday_country: str | None = Field(None, min_length=2, max_length=2)
    holiday_subdivision: str | None = Field(None, max_length=10)

    @model_validator(mode="after")
    def _hours(self):
        hours = [self.opening_time, self.midday_time, self.closing_time]
        if all(h is not None for h in hours) and not hours[0] < hours[1] < hours[2]:
            raise _when_error("hours_order", "midday_time")
        return self


class SiteUpdate(SiteCreate):
    code: Code | None = None
    name: Name | None = None


class BuildingCreate(Body):
    site_id: UUID
    code: Code
    name: Name
    address: Text | None = None


class BuildingUpdate(Body):
    code: Code | None = None
    name: Name | None = None
    address: Text | None = None


class FloorCreate(Body):
    building_id: UUID
    code: Code
    name: Name
    level: int | None = Field(None, ge=-10, le=200)
    plan_width: int | None = Field(None, ge=10, le=100000)
    plan_height: int | None = Field(None, ge=10, le=100000)


class FloorUpdate(Body):
    code: Code | None = None
    name: Name | None = None
    level: int | None = Field(None, ge=-10, le=200)
    plan_width: int | None = Field(None, ge=10, le=100000)
    plan_height: int | None = Field(None, ge=10, le=100000)


class ZoneCreate(Body):
    floor_id: UUID
    code: Code
    name: Name
    team_id: UUID | None = None


class ZoneUpdate(Body):
    code: Code | None = None
    name: Name | None = None
    team_id: UUID | None = None


AttributeValue = bool | int | float | Annotated[str, Field(max_length=100)]
AttributeName = Annotated[str, Field(min_length=1, max_length=40)]


class ResourceCreate(Body):
    """A desk, room or equipment; its floor and site are those of its zone."""

    zone_id: UUID
    kind: Kind
    code: Code
    name: Name
    capacity: int | None = Field(None, ge=1, le=10000)
    attributes: dict[AttributeName, AttributeValue] | None = Field(
        None, max_length=30, description='e.g. {"screens": 2, "docking_station": true}'
    )
    restricted_team_ids: list[UUID] | None = Field(None, max_length=50)
    x: float | None = None
    y: float | None = None


class ResourceUpdate(ResourceCreate):
    zone_id: UUID | None = None
    kind: Kind | None = None
    code: Code | None = None
    name: Name | None = None


class Deleted(Out):
    id: UUID


# --- imports, people, me ---------------------------------------------------------------


class ImportResult(Out):
    created: int
    updated: int


class LineError(Out):
    line: int
    column: str | None = None
    message: str


class FieldError(Out):
    field: str
    message: str


class Team(Out):
    id: UUID
    code: str
    name: str


class Person(Out):
    id: UUID
    email: str
    display_name: str
    given_name: str | None = None
    family_name: str | None = None
    department: str | None = None
    job_title: str | None = None
    phone_extension: str | None = None
    language: str | None = None
    teams: list[Team] = []


class PeopleQuery(Query):
    q: str = Field(min_length=1, max_length=100, description="part of a name or email")
    limit: int = Field(20, ge=1, le=50)


class ActorOut(Out):
    token_id: UUID
    role: Literal["agent", "site_admin", "admin", "device", "bot"]
    email: str
    person_id: UUID | None = None
    site_ids: list[UUID] = []
    room_id: UUID | None = None


class Me(Out):
    actor: ActorOut
    person: Person | None = None
    csrf_token: str | None = Field(None, description="signed in with the session cookie only: "
                                   "the X-CSRF-Token to send on POST, PUT, PATCH and DELETE")


# --- errors and health -------------------------------------------------------------------


class Error(Out):
    error: str = Field(description="stable code, e.g. resource_already_booked, invalid")
    message: str = Field(description="human sentence in the language of Accept-Language")
    field: str | None = Field(None, description="the offending field (422 invalid)")
    conflict: Conflict | None = Field(None, description="the clashing booking (409)")
    errors: list[LineError | FieldError] | None = Field(
        None, description="every problem found: CSV import lines, or request fields (422)")


class Health(Out):
    status: str
    checks: dict[str, bool] | None = None
