"""Telling the loser of a calendar conflict.

Calendar sync (booking service) publishes ``calendar.conflict`` when a room
was booked twice for one slot, once in Escale and once in the room's
calendar, before a sync could see both: the earlier creation was kept, the
other cancelled. Its organiser is told what was cancelled (room, time), why
(the other booking was created first) and what to do (book another slot).

The organiser is an Escale person (``cancelled.person``: their language,
email, and chat if they have a chat identity) or only a calendar address
(``cancelled.organiser_email``: an email in French). The message is not a
kind people route in their preferences: a cancellation they did not make is
always told, by email (and chat for a person), after their quiet hours.
Pure functions; ``parse`` refuses an event it cannot use (``Malformed``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from . import timefmt
from .events import CALENDAR_CONFLICT
from .messages import Rendered, bodies
from .planning import Planned
from .preferences import Preferences

KIND = "calendar_conflict"   # the ledger's kind of these messages
CHANNELS = ("email", "chat")


class Malformed(ValueError):
    """A ``calendar.conflict`` payload notify cannot use; the reason says why."""


@dataclass(frozen=True)
class Recipient:
    person_id: str | None
    email: str | None
    name: str
    language: str


@dataclass(frozen=True)
class Conflict:
    event_id: str
    recipient: Recipient | None     # None: nobody to tell
    booking_id: str | None          # the cancelled booking (None: a remote item never imported)
    room: str
    site: str
    timezone: str | None
    start: datetime
    end: datetime
    title: str
    kept_side: str                  # "escale" | "calendar"


def _instant(side: dict, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(side[name])
    except (KeyError, TypeError, ValueError):
        raise Malformed(f"cancelled.{name} is not a date and time") from None
    if value.tzinfo is None:
        raise Malformed(f"cancelled.{name} has no time zone")
    return value


def _uuid_or_none(value, name: str) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise Malformed(f"{name} is not an id") from None


def _address(value) -> str | None:
    if isinstance(value, str) and "@" in value.strip() and len(value) <= 320:
        return value.strip()
    return None


def _recipient(cancelled: dict) -> Recipient | None:
    person = cancelled.get("person")
    if person is not None and not isinstance(person, dict):
        raise Malformed("cancelled.person is not an object")
    if person and person.get("id"):
        return Recipient(
            person_id=_uuid_or_none(person.get("id"), "cancelled.person.id"),
            email=_address(person.get("email")) or _address(cancelled.get("organiser_email")),
            name=str(person.get("display_name") or ""),
            language=timefmt.lang_of(person.get("language")),
        )
    email = _address(cancelled.get("organiser_email"))
    if email is None:
        return None
    # Nobody Escale knows: an address, told in French (the default).
    return Recipient(person_id=None, email=email, name="", language="fr")


def parse(event) -> Conflict:
    if not isinstance(event, dict) or event.get("type") != CALENDAR_CONFLICT:
        raise Malformed("not a calendar.conflict event")
    event_id = _uuid_or_none(event.get("event_id"), "event_id")
    if event_id is None:
        raise Malformed("event_id is missing")
    cancelled, kept = event.get("cancelled"), event.get("kept")
    if not isinstance(cancelled, dict) or not isinstance(kept, dict):
        raise Malformed("kept and cancelled must be objects")
    start, end = _instant(cancelled, "start"), _instant(cancelled, "end")
    if end <= start:
        raise Malformed("cancelled.end is not after cancelled.start")
    resource = event.get("resource") if isinstance(event.get("resource"), dict) else {}
    site = event.get("site") if isinstance(event.get("site"), dict) else {}
    return Conflict(
        event_id=event_id,
        recipient=_recipient(cancelled),
        booking_id=_uuid_or_none(cancelled.get("booking_id"), "cancelled.booking_id"),
        room=str(resource.get("name") or "?"),
        site=str(site.get("name") or ""),
        timezone=site.get("timezone") if isinstance(site.get("timezone"), str) else None,
        start=start,
        end=end,
        title=str(cancelled.get("title") or "").strip()[:200],
        kept_side="calendar" if kept.get("side") == "calendar" else "escale",
    )


# Paragraphs per language. Placeholders: greeting, room, place (room and
# site), title (with its own spacing), when, elsewhere; next (chat).
TEXT = {
    "fr": {
        "subject": "Réservation annulée (conflit d'agenda) : {room}, {when}",
        "greeting": "Bonjour {name},",
        "greeting_anonymous": "Bonjour,",
        "body": [
            "Votre réservation{title} a été annulée : {place}, {when}.",
            "Pourquoi : la salle avait aussi été réservée sur ce créneau {elsewhere}, avant "
            "votre réservation. Quand deux réservations se chevauchent, la plus ancienne est "
            "gardée.",
        ],
        "elsewhere": {"calendar": "dans l'agenda de la salle (Outlook, Thunderbird...)",
                      "escale": "dans Escale"},
        "next_link": "Que faire : réservez un autre créneau ou une autre salle sur {url}",
        "next": "Que faire : réservez un autre créneau ou une autre salle dans Escale.",
        "chat": "❌ Réservation annulée (conflit d'agenda) : {place}, {when}. Une autre "
                "réservation, faite avant, a été gardée. {next}",
        "chat_next_link": "Réservez un autre créneau : {url}",
        "chat_next": "Réservez un autre créneau dans Escale.",
        "footer": "Escale — message automatique : une réservation à votre nom a été annulée.",
    },
    "en": {
        "subject": "Booking cancelled (calendar conflict): {room}, {when}",
        "greeting": "Hello {name},",
        "greeting_anonymous": "Hello,",
        "body": [
            "Your booking{title} has been cancelled: {place}, {when}.",
            "Why: the room had also been booked for this slot {elsewhere}, before your "
            "booking. When two bookings overlap, the earlier one is kept.",
        ],
        "elsewhere": {"calendar": "in the room's calendar (Outlook, Thunderbird...)",
                      "escale": "in Escale"},
        "next_link": "What to do: book another slot or another room at {url}",
        "next": "What to do: book another slot or another room in Escale.",
        "chat": "❌ Booking cancelled (calendar conflict): {place}, {when}. Another booking, "
                "made earlier, was kept. {next}",
        "chat_next_link": "Book another slot: {url}",
        "chat_next": "Book another slot in Escale.",
        "footer": "Escale — automatic message: a booking in your name was cancelled.",
    },
}


def app_link(public_url: str | None) -> str | None:
    """The web app's address, when notify knows where Escale is served."""
    return f"{public_url.rstrip('/')}/app" if public_url else None


def render(conflict: Conflict, public_url: str | None = None) -> Rendered:
    recipient = conflict.recipient
    lang = recipient.language if recipient else "fr"
    words = TEXT[lang]
    when = timefmt.interval(conflict.start, conflict.end, conflict.timezone, lang)
    place = f"{conflict.room} ({conflict.site})" if conflict.site else conflict.room
    title = f" « {conflict.title} »" if lang == "fr" else f" “{conflict.title}”"
    values = {"room": conflict.room, "place": place, "when": when,
              "title": title if conflict.title else "",
              "elsewhere": words["elsewhere"][conflict.kept_side]}
    link = app_link(public_url)
    greeting = (words["greeting"].format(name=recipient.name) if recipient and recipient.name
                else words["greeting_anonymous"])
    body = [greeting] + [line.format(**values) for line in words["body"]]
    body.append(words["next_link"].format(url=link) if link else words["next"])
    subject = words["subject"].format(**values)
    text, html = bodies(lang, subject, body, words["footer"])
    chat = words["chat"].format(**values, next=words["chat_next_link"].format(url=link) if link
                                else words["chat_next"])
    return Rendered(lang, subject, text, html, chat)


def deliveries(conflict: Conflict, prefs: Preferences, now: datetime, chat_enabled: bool,
               public_url: str | None = None) -> list[Planned]:
    """The messages telling the cancelled side's organiser (none if nobody to tell)."""
    recipient = conflict.recipient
    if recipient is None:
        return []
    rendered = render(conflict, public_url)
    when = prefs.quiet_until(now) or now
    planned = []
    for channel in CHANNELS:
        common = dict(event_id=conflict.event_id, channel=channel, kind=KIND,
                      person_id=recipient.person_id, booking_id=conflict.booking_id,
                      next_attempt_at=when)
        if channel == "email":
            if not recipient.email:
                planned.append(Planned(message={}, status="skipped", reason="no_email", **common))
                continue
            planned.append(Planned(message={
                "to": recipient.email, "to_name": recipient.name, "subject": rendered.subject,
                "text": rendered.text, "html": rendered.html, "language": rendered.language,
                "ics": None, "method": None}, **common))
        elif recipient.person_id is not None:
            message = {"text": rendered.chat, "language": rendered.language}
            if chat_enabled:
                planned.append(Planned(message=message, **common))
            else:
                planned.append(Planned(message=message, status="skipped",
                                       reason="no_chat_backend", **common))
    return planned
