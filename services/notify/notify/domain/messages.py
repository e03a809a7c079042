"""What each message says, in French (default) and English.

``render(kind, event, ...)`` turns a booking event into a ``Rendered``
message: a subject, a plain-text body, an HTML body (the same paragraphs,
escaped, in one layout) and a one-line chat text. The person's language
comes from the event (``person.language``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import jinja2

from . import timefmt
from .events import CANCELLATION, CONFIRMATION, NO_SHOW_WARNING, RELEASED, REMINDER

RESOURCE = {
    "fr": {"desk": "le bureau", "room": "la salle", "equipment": "l'équipement"},
    "en": {"desk": "desk", "room": "room", "equipment": "equipment"},
}

# Per kind and language: subject, chat line, then the body's paragraphs.
# Placeholders: name, resource, what (kind + name), site, when, release.
CATALOGUE: dict[str, dict[str, dict]] = {
    CONFIRMATION: {
        "fr": {
            "subject": "Réservation confirmée : {resource} ({site}), {when}",
            "chat": "✅ Réservation confirmée : {what} ({site}), {when}.",
            "body": [
                "Bonjour {name},",
                "Votre réservation est confirmée : {what}, {site}, {when}.",
                "L'invitation jointe l'ajoute à votre agenda (Outlook, Thunderbird...).",
                "À votre arrivée, pensez à vous enregistrer ; sans enregistrement, "
                "la réservation peut être libérée.",
            ],
        },
        "en": {
            "subject": "Booking confirmed: {resource} ({site}), {when}",
            "chat": "✅ Booking confirmed: {what} ({site}), {when}.",
            "body": [
                "Hello {name},",
                "Your booking is confirmed: {what}, {site}, {when}.",
                "The attached invitation adds it to your calendar (Outlook, Thunderbird...).",
                "When you arrive, remember to check in; without a check-in the booking "
                "may be released.",
            ],
        },
    },
    "update": {
        "fr": {
            "subject": "Réservation modifiée : {resource} ({site}), {when}",
            "chat": "✏️ Réservation modifiée : {what} ({site}), {when}.",
            "body": [
                "Bonjour {name},",
                "Votre réservation a été modifiée : {what}, {site}, {when}.",
                "L'invitation jointe met votre agenda à jour.",
            ],
        },
        "en": {
            "subject": "Booking changed: {resource} ({site}), {when}",
            "chat": "✏️ Booking changed: {what} ({site}), {when}.",
            "body": [
                "Hello {name},",
                "Your booking has changed: {what}, {site}, {when}.",
                "The attached invitation updates your calendar.",
            ],
        },
    },
    CANCELLATION: {
        "fr": {
            "subject": "Réservation annulée : {resource} ({site}), {when}",
            "chat": "❌ Réservation annulée : {what} ({site}), {when}.",
            "body": [
                "Bonjour {name},",
                "Votre réservation est annulée : {what}, {site}, {when}.",
                "L'annulation jointe la retire de votre agenda.",
            ],
        },
        "en": {
            "subject": "Booking cancelled: {resource} ({site}), {when}",
            "chat": "❌ Booking cancelled: {what} ({site}), {when}.",
            "body": [
                "Hello {name},",
                "Your booking is cancelled: {what}, {site}, {when}.",
                "The attached cancellation removes it from your calendar.",
            ],
        },
    },
    REMINDER: {
        "fr": {
            "subject": "Rappel : {resource} ({site}), {when}",
            "chat": "⏰ Rappel : {what} ({site}), {when}.",
            "body": [
                "Bonjour {name},",
                "Pour rappel, vous avez réservé {what}, {site}, {when}.",
                "Vous ne venez plus ? Annulez la réservation pour libérer la place.",
            ],
        },
        "en": {
            "subject": "Reminder: {resource} ({site}), {when}",
            "chat": "⏰ Reminder: {what} ({site}), {when}.",
            "body": [
                "Hello {name},",
                "A reminder that you booked {what}, {site}, {when}.",
                "Not coming any more? Cancel the booking to free the place.",
            ],
        },
    },
    NO_SHOW_WARNING: {
        "fr": {
            "subject": "Enregistrez-vous avant {release} : {resource} ({site})",
            "chat": "⚠️ Enregistrez-vous avant {release}, sinon {what} ({site}) sera libéré.",
            "body": [
                "Bonjour {name},",
                "Vous n'êtes pas encore enregistré(e) pour {what}, {site}, {when}.",
                "Sans enregistrement avant {release}, la réservation sera libérée pour "
                "d'autres personnes.",
            ],
        },
        "en": {
            "subject": "Check in before {release}: {resource} ({site})",
            "chat": "⚠️ Check in before {release}, or {what} ({site}) will be released.",
            "body": [
                "Hello {name},",
                "You have not checked in yet for {what}, {site}, {when}.",
                "Without a check-in before {release}, the booking will be released for "
                "others.",
            ],
        },
    },
    RELEASED: {
        "fr": {
            "subject": "Réservation libérée : {resource} ({site}), {when}",
            "chat": "ℹ️ Réservation libérée faute d'enregistrement : {what} ({site}), {when}.",
            "body": [
                "Bonjour {name},",
                "Faute d'enregistrement, votre réservation a été libérée : {what}, {site}, "
                "{when}.",
                "Vous pouvez réserver de nouveau si la place est encore libre.",
            ],
        },
        "en": {
            "subject": "Booking released: {resource} ({site}), {when}",
            "chat": "ℹ️ Booking released for lack of a check-in: {what} ({site}), {when}.",
            "body": [
                "Hello {name},",
                "As nobody checked in, your booking was released: {what}, {site}, {when}.",
                "You can book again if the place is still free.",
            ],
        },
    },
}

FOOTER = {
    "fr": "Escale — vous recevez ce message selon vos préférences de notification.",
    "en": "Escale — you receive this message according to your notification preferences.",
}

_LAYOUT = jinja2.Environment(autoescape=True).from_string(
    """<!DOCTYPE html>
<html lang="{{ lang }}">
<head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: Arial, sans-serif; font-size: 15px; color: #1e1e1e; line-height: 1.5">
{% for paragraph in body %}<p>{{ paragraph }}</p>
{% endfor %}<p style="color: #666; font-size: 12px">{{ footer }}</p>
</body>
</html>
"""
)


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    text: str
    html: str
    chat: str


def context(event: dict, language: str, release: datetime | None = None) -> dict:
    lang = timefmt.lang_of(language)
    booking, person = event["booking"], event["person"]
    resource, site = event.get("resource") or {}, event.get("site") or {}
    timezone = site.get("timezone")
    resource_name = resource.get("name") or booking.get("resource_name") or "?"
    kind = resource.get("kind") or booking.get("resource_kind") or "desk"
    article = RESOURCE[lang].get(kind, "")
    what = f"{article} {resource_name}".strip() if lang == "fr" else f"{article} {resource_name}"
    return {
        "name": person.get("display_name") or person.get("email") or "",
        "resource": resource_name,
        "what": what.strip(),
        "site": site.get("name") or "",
        "when": timefmt.interval(datetime.fromisoformat(booking["start"]),
                                 datetime.fromisoformat(booking["end"]), timezone, lang),
        "release": timefmt.clock(release.astimezone(timefmt.zone(timezone))) if release else "",
    }


def render(kind: str, event: dict, language: str | None = None,
           release: datetime | None = None, template: str | None = None) -> Rendered:
    """The message of ``kind`` about ``event``; ``template`` overrides the wording
    (``"update"`` for a changed booking's confirmation)."""
    lang = timefmt.lang_of(language or (event.get("person") or {}).get("language"))
    entry = CATALOGUE[template or kind][lang]
    values = context(event, lang, release)
    subject = entry["subject"].format(**values)
    body = [line.format(**values) for line in entry["body"]]
    text, html = bodies(lang, subject, body, FOOTER[lang])
    return Rendered(lang, subject, text, html, entry["chat"].format(**values))


def bodies(lang: str, subject: str, body: list[str], footer: str) -> tuple[str, str]:
    """The plain-text and HTML bodies of the paragraphs ``body``, in one layout."""
    text = "\n\n".join(body) + "\n\n-- \n" + footer + "\n"
    return text, _LAYOUT.render(lang=lang, subject=subject, body=body, footer=footer)
