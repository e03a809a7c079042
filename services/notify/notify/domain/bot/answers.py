"""The bot's replies, in French (default) and English: short, plain text.

Each function takes what the services answered (presence's ``Presence``
and ``PersonCard``, booking's availability) and returns one message. A
presence the asker may not see reads "not available" and shows nothing
else but the person's contacts, which are directory data.
"""

from __future__ import annotations

from datetime import date, datetime

from .. import timefmt

MAX_LIST = 5
MAX_ROSTER = 15

STATUS = {
    "fr": {
        "on_site": "sur site", "remote": "en télétravail", "off": "absent(e)",
        "mission": "en mission", "in_meeting": "en réunion",
        "do_not_disturb": "ne pas déranger", "away": "momentanément absent(e)",
        "available": "disponible", "unknown": "pas d'information de présence",
        "not_available": "information de présence non disponible",
    },
    "en": {
        "on_site": "on site", "remote": "working remotely", "off": "off",
        "mission": "on a business trip", "in_meeting": "in a meeting",
        "do_not_disturb": "do not disturb", "away": "away for a moment",
        "available": "available", "unknown": "no presence information",
        "not_available": "presence not available",
    },
}
CHANNEL = {
    "fr": {"phone": "téléphone", "softphone": "softphone", "video": "visio", "chat": "chat",
           "email": "e-mail"},
    "en": {"phone": "phone", "softphone": "softphone", "video": "video", "chat": "chat",
           "email": "email"},
}
TEXT = {
    "fr": {
        "until": "jusqu'à {time}",
        "reach": "Pour joindre : {channels}.",
        "choose": "Plusieurs personnes correspondent à « {query} » :",
        "choose_more": "… et d'autres. Précisez le nom.",
        "choose_hint": "Précisez, par exemple : « où est {example} ? »",
        "no_match": "Je ne trouve personne qui s'appelle « {query} ».",
        "suggest": "Vouliez-vous dire : {names} ?",
        "on_site_title": "Sur site {day}{team} :",
        "on_site_none": "Personne n'est prévu sur site {day}{team} (parmi ce que vous pouvez voir).",
        "on_site_more": "… et {count} autre(s).",
        "team_suffix": " (équipe {team})",
        "your_teams": " (vos équipes)",
        "no_team": "Je ne trouve pas d'équipe « {team} ».",
        "no_teams_of_yours": "Vous n'êtes dans aucune équipe : je montre tout le site.",
        "room_free": "La salle {room} ({site}) est libre {when}.",
        "room_booked": "La salle {room} ({site}) est occupée {when}.",
        "room_mine": "La salle {room} ({site}) est réservée par vous {when}.",
        "room_restricted": "La salle {room} ({site}) est réservée à certaines équipes.",
        "room_closed": "Le site {site} est fermé {when}.",
        "room_unknown": "Je ne trouve pas de salle « {room} ».",
        "room_choose": "Plusieurs salles correspondent à « {room} » : {names}. Précisez.",
        "room_when": "de {start} à {end}",
        "room_when_day": "{day}, de {start} à {end}",
        "today": "aujourd'hui",
        "tomorrow": "demain",
        "unknown_asker": (
            "Je ne sais pas qui vous êtes : votre compte de messagerie n'est relié à aucune "
            "personne de l'annuaire. Demandez à un administrateur d'Escale de le relier."
        ),
        "not_understood": "Je n'ai pas compris. ",
        "help": (
            "Je réponds à des questions comme :\n"
            "• où est Marie Dupont ?\n"
            "• qui est sur site demain ? (ou : qui de l'équipe RH est là mardi ?)\n"
            "• la salle Seine est libre à 14h ?"
        ),
        "unavailable": "Le service de présence ne répond pas ; réessayez dans un instant.",
    },
    "en": {
        "until": "until {time}",
        "reach": "To reach them: {channels}.",
        "choose": "Several people match “{query}”:",
        "choose_more": "… and more. Please give the full name.",
        "choose_hint": "Be more precise, for example: “where is {example}?”",
        "no_match": "I cannot find anyone called “{query}”.",
        "suggest": "Did you mean: {names}?",
        "on_site_title": "On site {day}{team}:",
        "on_site_none": "Nobody is planned on site {day}{team} (among what you may see).",
        "on_site_more": "… and {count} more.",
        "team_suffix": " (team {team})",
        "your_teams": " (your teams)",
        "no_team": "I cannot find a team “{team}”.",
        "no_teams_of_yours": "You are in no team: showing the whole site.",
        "room_free": "Room {room} ({site}) is free {when}.",
        "room_booked": "Room {room} ({site}) is booked {when}.",
        "room_mine": "Room {room} ({site}) is booked by you {when}.",
        "room_restricted": "Room {room} ({site}) is reserved for some teams.",
        "room_closed": "Site {site} is closed {when}.",
        "room_unknown": "I cannot find a room “{room}”.",
        "room_choose": "Several rooms match “{room}”: {names}. Which one?",
        "room_when": "from {start} to {end}",
        "room_when_day": "on {day}, from {start} to {end}",
        "today": "today",
        "tomorrow": "tomorrow",
        "unknown_asker": (
            "I do not know who you are: your chat account is not linked to anyone in the "
            "directory. Ask an Escale administrator to link it."
        ),
        "not_understood": "Sorry, I did not understand. ",
        "help": (
            "I answer questions like:\n"
            "• where is Marie Dupont?\n"
            "• who is on site tomorrow? (or: who from team HR is in on Tuesday?)\n"
            "• is room Seine free at 2pm?"
        ),
        "unavailable": "The presence service is not answering; try again in a moment.",
    },
}


def t(language: str, key: str, **values) -> str:
    return TEXT[timefmt.lang_of(language)][key].format(**values)


def day_words(d: date, today: date, language: str) -> str:
    lang = timefmt.lang_of(language)
    if d == today:
        return t(lang, "today")
    if (d - today).days == 1:
        return t(lang, "tomorrow")
    return ("le " if lang == "fr" else "on ") + timefmt.day(d, lang)


def person_label(card: dict) -> str:
    name = card.get("display_name") or " ".join(
        x for x in (card.get("given_name"), card.get("family_name")) if x) or "?"
    extra = card.get("department") or ", ".join(tm.get("name", "") for tm in card.get("teams") or [])
    return f"{name} ({extra})" if extra else name


def _clock(value: str | None, timezone: str) -> str | None:
    if not value:
        return None
    try:
        return timefmt.clock(datetime.fromisoformat(value).astimezone(timefmt.zone(timezone)))
    except ValueError:
        return None


def _place(place: dict | None) -> str:
    if not place:
        return ""
    parts = [place.get("site_name")]
    if place.get("resource_name") or place.get("resource_code"):
        parts.append(place.get("resource_name") or place.get("resource_code"))
    return ", ".join(p for p in parts if p)


def reach_line(reach: list[dict] | None, language: str) -> str:
    lang = timefmt.lang_of(language)
    items = []
    for item in reach or []:
        label = CHANNEL[lang].get(item.get("channel"), item.get("channel") or "")
        value = item.get("href") if item.get("channel") == "video" and item.get("href") \
            else item.get("value")
        if value:
            items.append(f"{label} {value}")
    return t(lang, "reach", channels=" · ".join(items[:4])) if items else ""


def where_is(card: dict, presence: dict, language: str, day: date | None, today: date,
             timezone: str = "Europe/Paris") -> str:
    lang = timefmt.lang_of(language)
    status = presence.get("status") or "unknown"
    head = person_label(card)
    if day is not None and day != today:
        head += f", {day_words(day, today, lang)}"
    if status == "not_available":
        line = f"{head} : {STATUS[lang]['not_available']}." if lang == "fr" else \
            f"{head}: {STATUS[lang]['not_available']}."
        reach = reach_line(presence.get("reach"), lang)
        return line + ("\n" + reach if reach else "")
    words = STATUS[lang].get(status, status)
    until = _clock(presence.get("until"), timezone)
    if until and status not in ("on_site", "remote", "off", "mission", "unknown"):
        words += " " + t(lang, "until", time=until)
    if presence.get("label"):
        words += f" « {presence['label']} »" if lang == "fr" else f" “{presence['label']}”"
    place = _place(presence.get("place"))
    if place:
        words += f" — {place}"
    separator = " : " if lang == "fr" else ": "
    line = f"{head}{separator}{words}."
    reach = reach_line(presence.get("reach"), lang)
    return line + ("\n" + reach if reach else "")


def choose(query: str, cards: list[dict], language: str, more: bool) -> str:
    lines = [t(language, "choose", query=query)]
    lines += [f"• {person_label(c)}" for c in cards[:MAX_LIST]]
    if more or len(cards) > MAX_LIST:
        lines.append(t(language, "choose_more"))
    else:
        example = cards[0].get("display_name") or query
        lines.append(t(language, "choose_hint", example=example))
    return "\n".join(lines)


def no_match(query: str, suggestions: list[dict], language: str) -> str:
    text = t(language, "no_match", query=query)
    if suggestions:
        names = ", ".join(person_label(c) for c in suggestions[:MAX_LIST])
        text += " " + t(language, "suggest", names=names)
    return text


def on_site(entries: list[dict], d: date, today: date, team_label: str | None,
            language: str) -> str:
    lang = timefmt.lang_of(language)
    day = day_words(d, today, lang)
    team = team_label or ""
    if not entries:
        return t(lang, "on_site_none", day=day, team=team)
    lines = [t(lang, "on_site_title", day=day, team=team)]
    for entry in entries[:MAX_ROSTER]:
        card = entry.get("person") or {}
        desks = entry.get("desks") or []
        where = ""
        if desks:
            where = " — " + (desks[0].get("resource_name") or desks[0].get("resource_code") or "")
        half = ""
        am, pm = (entry.get("am") or {}).get("status"), (entry.get("pm") or {}).get("status")
        if am == "on_site" and pm != "on_site":
            half = " (matin)" if lang == "fr" else " (morning)"
        elif pm == "on_site" and am != "on_site":
            half = " (après-midi)" if lang == "fr" else " (afternoon)"
        lines.append(f"• {person_label(card)}{half}{where}")
    if len(entries) > MAX_ROSTER:
        lines.append(t(lang, "on_site_more", count=len(entries) - MAX_ROSTER))
    return "\n".join(lines)


def room(resource: dict, site_name: str, status: str, start: datetime, end: datetime,
         today: date, timezone: str, language: str) -> str:
    lang = timefmt.lang_of(language)
    tz = timefmt.zone(timezone)
    s, e = start.astimezone(tz), end.astimezone(tz)
    if s.date() == today:
        when = t(lang, "room_when", start=timefmt.clock(s), end=timefmt.clock(e))
    else:
        when = t(lang, "room_when_day", day=timefmt.day(s.date(), lang), start=timefmt.clock(s),
                 end=timefmt.clock(e))
    key = {"free": "room_free", "booked": "room_booked", "mine": "room_mine",
           "restricted": "room_restricted", "closed": "room_closed"}.get(status, "room_booked")
    return t(lang, key, room=resource.get("name") or resource.get("code"), site=site_name,
             when=when)
