"""A person's choices: which channels for which kind of message, when to be
reminded, and quiet hours during which nothing is sent.

A person without saved preferences gets ``DEFAULT``. Quiet hours are local
times in the person's time zone and may wrap midnight (22:00 to 07:00); a
message due inside them waits for their end.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta

from . import errors
from .events import CANCELLATION, CONFIRMATION, KINDS, NO_SHOW_WARNING, RELEASED, REMINDER
from .error_messages import msg

CHANNELS = ("email", "chat")
REMINDER_CHOICES = ("day_before", "morning_of", "none")

DEFAULT_CHANNELS: dict[str, tuple[str, ...]] = {
    CONFIRMATION: ("email",),
    CANCELLATION: ("email",),
    REMINDER: ("email",),
    NO_SHOW_WARNING: ("email", "chat"),
    RELEASED: ("email", "chat"),
}


def _tz(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise errors.Invalid("timezone_not_iana_example",
                             field="timezone") from None


def _time(value, name: str) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise errors.Invalid(msg("name_must_be_a_time_hh", name=name), field=name)
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise errors.Invalid(msg("name_must_be_a_time_hh", name=name), field=name) from None
    return parsed.replace(second=0, microsecond=0, tzinfo=None)


@dataclass(frozen=True)
class Preferences:
    channels: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_CHANNELS))
    reminder: str = "day_before"
    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str = "Europe/Paris"

    def channels_for(self, kind: str) -> tuple[str, ...]:
        return tuple(self.channels.get(kind, DEFAULT_CHANNELS.get(kind, ())))

    def to_wire(self) -> dict:
        quiet = None
        if self.quiet_start is not None and self.quiet_end is not None:
            quiet = {"start": self.quiet_start.strftime("%H:%M"),
                     "end": self.quiet_end.strftime("%H:%M")}
        return {
            "channels": {kind: list(self.channels_for(kind)) for kind in KINDS},
            "reminder": self.reminder,
            "quiet_hours": quiet,
            "timezone": self.timezone,
        }

    def updated(self, data) -> "Preferences":
        """These preferences with the fields of ``data`` (a partial wire shape) applied."""
        if not isinstance(data, dict):
            raise errors.Invalid("preferences_must_be_an_object", field=None)
        unknown = set(data) - {"channels", "reminder", "quiet_hours", "timezone"}
        if unknown:
            name = sorted(unknown)[0]
            raise errors.Invalid(msg("unknown_field_name", name=name), field=name)
        result = self
        if "channels" in data:
            channels = data["channels"]
            if not isinstance(channels, dict):
                raise errors.Invalid("channels_must_be_an_object", field="channels")
            merged = dict(self.channels)
            for kind, chosen in channels.items():
                if kind not in KINDS:
                    raise errors.Invalid(msg("unknown_kind_of_message_kind_use", kind=kind,
                                             kinds=", ".join(KINDS)), field=f"channels.{kind}")
                if chosen == "none" or chosen is None:
                    chosen = []
                if not isinstance(chosen, list) or any(c not in CHANNELS for c in chosen):
                    raise errors.Invalid("a_kind_s_channels_are_a", field=f"channels.{kind}")
                merged[kind] = tuple(dict.fromkeys(chosen))
            result = replace(result, channels=merged)
        if "reminder" in data:
            if data["reminder"] not in REMINDER_CHOICES:
                raise errors.Invalid("reminder_must_be_day_before_morning",
                                     field="reminder")
            result = replace(result, reminder=data["reminder"])
        if "timezone" in data:
            if not isinstance(data["timezone"], str):
                raise errors.Invalid("timezone_not_iana", field="timezone")
            _tz(data["timezone"])
            result = replace(result, timezone=data["timezone"])
        if "quiet_hours" in data:
            quiet = data["quiet_hours"]
            if quiet is None:
                result = replace(result, quiet_start=None, quiet_end=None)
            else:
                if not isinstance(quiet, dict) or set(quiet) != {"start", "end"}:
                    raise errors.Invalid("quiet_hours_is_start_hh_mm", field="quiet_hours")
                start = _time(quiet["start"], "quiet_hours.start")
                end = _time(quiet["end"], "quiet_hours.end")
                if start == end:
                    raise errors.Invalid("quiet_hours_must_not_start_and",
                                         field="quiet_hours")
                result = replace(result, quiet_start=start, quiet_end=end)
        return result

    def quiet_until(self, now: datetime) -> datetime | None:
        """The end of the quiet hours ``now`` falls in (aware), or None if not quiet."""
        if self.quiet_start is None or self.quiet_end is None:
            return None
        tz = _tz(self.timezone)
        local = now.astimezone(tz)
        t = local.time().replace(tzinfo=None)
        start, end = self.quiet_start, self.quiet_end
        if start < end:
            inside = start <= t < end
            end_day = local.date()
        else:  # wraps midnight
            inside = t >= start or t < end
            end_day = local.date() + timedelta(days=1) if t >= start else local.date()
        if not inside:
            return None
        return datetime.combine(end_day, end, tzinfo=tz)


DEFAULT = Preferences()


def from_row(row: dict | None) -> Preferences:
    if row is None:
        return DEFAULT
    channels = dict(DEFAULT_CHANNELS)
    for kind, chosen in (row.get("channels") or {}).items():
        if kind in KINDS:
            channels[kind] = tuple(c for c in chosen if c in CHANNELS)
    return Preferences(
        channels=channels,
        reminder=row.get("reminder") or "day_before",
        quiet_start=row.get("quiet_start"),
        quiet_end=row.get("quiet_end"),
        timezone=row.get("timezone") or "Europe/Paris",
    )
