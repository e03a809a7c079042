"""Dates and times in words, in French and English (no locale database needed)."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

DAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}


def lang_of(language: str | None) -> str:
    return "en" if (language or "").lower().startswith("en") else "fr"


def zone(name: str | None):
    try:
        return zoneinfo.ZoneInfo(name or "Europe/Paris")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Europe/Paris")


def day(d: date, language: str) -> str:
    lang = lang_of(language)
    name, month = DAYS[lang][d.weekday()], MONTHS[lang][d.month - 1]
    if lang == "fr":
        number = "1er" if d.day == 1 else str(d.day)
        return f"{name} {number} {month} {d.year}"
    return f"{name} {d.day} {month} {d.year}"


def clock(t: datetime) -> str:
    return t.strftime("%H:%M")


def interval(start: datetime, end: datetime, timezone: str | None, language: str) -> str:
    """"mardi 10 mars 2026, de 09:00 à 12:00" / "Tuesday 10 March 2026, 09:00 to 12:00"."""
    tz = zone(timezone)
    s, e = start.astimezone(tz), end.astimezone(tz)
    lang = lang_of(language)
    if s.date() == e.date():
        if lang == "fr":
            return f"{day(s.date(), lang)}, de {clock(s)} à {clock(e)}"
        return f"{day(s.date(), lang)}, {clock(s)} to {clock(e)}"
    if lang == "fr":
        return f"du {day(s.date(), lang)} {clock(s)} au {day(e.date(), lang)} {clock(e)}"
    return f"from {day(s.date(), lang)} {clock(s)} to {day(e.date(), lang)} {clock(e)}"
