"""The chat bot's parser: a message in French or English -> a question.

Questions understood (polite or terse, with or without accents, with
typos in the keywords):

* ``WhereIs``: "où est Marie Dupont ?", "where is dupont", "marie est là ?",
  "où sera Paul demain ?";
* ``OnSite``: "qui est sur site aujourd'hui / demain / mardi ?", "who's in
  tomorrow?", "qui de l'équipe RH est là jeudi ?";
* ``RoomFree``: "la salle Seine est libre à 14h ?", "is room Loire free now?";
* ``Help``; anything else is ``NotUnderstood``.

No I/O: names, teams and rooms are returned as typed; the conversation
resolves them against the directory. Days are ``DayRef`` values resolved
against "today" by the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from .text import correct, fold, tokens

# --- vocabulary -------------------------------------------------------------------

WHERE = {"ou", "where", "whereabouts"}
WHO = {"qui", "who", "anyone", "anybody", "quelqu", "somebody", "someone"}
BE = {"est", "is", "are", "sera", "seront", "etait", "se", "trouve", "travaille", "travail",
      "bosse", "will", "be", "was", "il", "elle", "ils", "elles", "y", "sont"}
SEEK = {"vu", "seen", "find", "locate", "cherche", "chercher", "trouver", "localise",
        "localiser", "locate", "situe"}
ONSITE = {"sursite", "onsite", "la", "ici", "present", "presente", "presents", "presentes",
          "here", "in", "there", "around", "vient", "viennent", "venir", "coming", "come",
          "comes", "arrive", "arrivee", "bureau", "office", "work", "travaille"}
ROOM = {"salle", "room", "salles", "rooms"}
FREE = {"libre", "libres", "dispo", "disponible", "disponibles", "free", "available", "occupee",
        "occupe", "busy", "booked", "reservee", "reserve", "prise", "vide", "empty", "taken",
        "inoccupee"}
NOW = {"maintenant", "now", "actuellement", "immediatement", "currently"}
TEAM = {"equipe", "team", "service", "pole", "direction", "unite", "departement",
        "department"}
HELP = {"aide", "help", "menu", "commandes", "commands", "usage", "exemples", "examples"}
GREETING = {"bonjour", "salut", "hello", "hi", "hey", "coucou", "bonsoir", "yo", "hola"}
POLITE = {"stp", "svp", "please", "pls", "plz", "merci", "thanks", "thank", "thx"}
FILLER = GREETING | POLITE | {
    "escale", "bot", "dis", "moi", "tell", "me", "peux", "pouvez", "pourrais", "pourriez",
    "tu", "vous", "can", "could", "would", "sais", "savez", "know", "do", "does", "you", "i",
    "je", "voudrais", "veux", "aimerais", "savoir", "want", "like", "to", "estceque",
    "questceque", "a", "at", "the", "of", "on", "for", "pour", "t", "oh", "ok", "okay",
    "alors", "euh", "um", "as", "have", "has", "d", "l", "svp", "un", "une", "le", "les",
    "des", "du", "de", "quick", "question", "si", "if", "whether", "know",
    "actually", "cette", "ce", "cet", "this", "let", "check", "verifier", "verifie",
}
DAY_WORDS = {
    "aujourdhui": 0, "auj": 0, "today": 0, "tdy": 0, "tonight": 0, "ce": None,
    "demain": 1, "tomorrow": 1, "tmrw": 1, "tmr": 1, "apresdemain": 2,
}
WEEKDAYS = {
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5,
    "dimanche": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3,
    "thurs": 3, "fri": 4,
}
NEXT = {"prochain", "prochaine", "next"}
# Typos too short for the edit-distance correction.
ALIASES = {"ets": "est", "etes": "est", "whr": "where", "wer": "where", "wre": "where",
           "fre": "free", "fee": "free", "hte": "the", "qi": "qui", "ki": "qui", "whi": "who",
           "wo": "who", "sal": "salle", "rom": "room", "rm": "room", "dmn": "demain",
           "2main": "demain", "tmw": "tomorrow", "2day": "today", "2morrow": "tomorrow",
           "lib": "libre", "u": "you", "r": "are", "pls": "please", "stv": "stp"}
PARTS = {"matin": (9, 0), "morning": (9, 0), "midi": (12, 0), "noon": (12, 0),
         "apresmidi": (14, 0), "afternoon": (14, 0), "soir": (18, 0), "evening": (18, 0)}

# Keywords a misspelt word may be corrected to. Not the parts of the day
# ("matin" is one letter from "Martin") nor short words: those only match
# exactly, so common names are not turned into keywords.
KEYWORDS = frozenset(
    WHERE | WHO | BE | SEEK | ONSITE | ROOM | FREE | NOW | TEAM | HELP | GREETING | POLITE
    | FILLER | set(DAY_WORDS) | set(WEEKDAYS) | NEXT | set(PARTS)
    | {"equipe", "aujourdhui", "apresmidi", "sursite", "onsite", "qui", "where", "from",
       "dans", "avec"}
)
VOCABULARY = frozenset(w for w in KEYWORDS - set(PARTS) - FILLER if len(w) >= 5)

FRENCH = {"ou", "est", "qui", "salle", "libre", "libres", "demain", "aujourdhui", "sursite",
          "la", "equipe", "maintenant", "bonjour", "salut", "dispo", "disponible", "vient",
          "present", "presente", "sera", "se", "trouve", "stp", "svp", "merci", "apresmidi",
          "matin", "midi", "soir", "estceque", "dans", "de", "du", "des", "le", "les", "et",
          "sont", "aide", "prochain", "prochaine", "occupee", "reservee", "quelqu", "vu",
          "cherche", "elle", "il", "ici", "travaille", "bureau", "a", "service"}
FRENCH |= {k for k, v in WEEKDAYS.items() if k.endswith("di") or k == "dimanche"}
ENGLISH = {"where", "is", "who", "room", "free", "tomorrow", "today", "the", "team", "in",
           "now", "available", "hello", "here", "there", "on", "onsite", "at", "busy",
           "booked", "please", "thanks", "help", "are", "will", "be", "anyone", "anybody",
           "coming", "from", "find", "seen", "around", "office", "next", "morning",
           "afternoon", "evening", "noon", "what", "can", "you", "of"}
ENGLISH |= {k for k in WEEKDAYS if k.endswith("day") or k in ("tue", "wed", "thu", "fri")}

STOP_NAME = BE | ONSITE | FREE | NOW | POLITE | set(DAY_WORDS) | set(WEEKDAYS) | NEXT \
    | set(PARTS) | {"estceque", "a", "at", "for", "pour", "aujourdhui"}

# --- questions -------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRef:
    """A day as said: ``offset`` days from today, or the next ``weekday``
    (0 = Monday; today counts unless ``next_week``), or a calendar date."""

    offset: int | None = None
    weekday: int | None = None
    next_week: bool = False
    day: int | None = None
    month: int | None = None
    year: int | None = None

    def resolve(self, today: date) -> date:
        if self.offset is not None:
            return today + timedelta(days=self.offset)
        if self.weekday is not None:
            ahead = (self.weekday - today.weekday()) % 7
            if self.next_week and ahead == 0:
                ahead = 7
            return today + timedelta(days=ahead)
        year = self.year or today.year
        try:
            result = date(year, self.month or today.month, self.day or today.day)
        except ValueError:
            return today
        if self.year is None and result < today - timedelta(days=1):
            try:
                result = result.replace(year=year + 1)
            except ValueError:
                pass
        return result


TODAY = DayRef(offset=0)


@dataclass(frozen=True)
class WhereIs:
    name: str
    day: DayRef | None = None


@dataclass(frozen=True)
class OnSite:
    day: DayRef = TODAY
    team: str | None = None


@dataclass(frozen=True)
class RoomFree:
    room: str
    day: DayRef | None = None
    time: tuple[int, int] | None = None      # None: now
    explicit: bool = True                     # said "room"/"salle"


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class NotUnderstood:
    pass


Question = WhereIs | OnSite | RoomFree | Help | NotUnderstood


@dataclass(frozen=True)
class Parsed:
    question: Question
    language: str | None      # "fr", "en", or None when the text does not tell


# --- parsing -------------------------------------------------------------------------

_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")
_TIME = re.compile(r"^(\d{1,2})h(\d{2})?([ap]m)?$")
_HOURS = re.compile(r"(\d{1,2})\s*heures?\b")
_MENTION = re.compile(r"^\s*(?:@?escale\w*|!escale|/escale)\s*[:,]?\s*", re.IGNORECASE)


@dataclass
class _Token:
    raw: str       # folded, as typed
    word: str      # corrected keyword, or raw


def _language(words: list[str]) -> str | None:
    fr = sum(w in FRENCH for w in words)
    en = sum(w in ENGLISH for w in words)
    if fr > en:
        return "fr"
    if en > fr:
        return "en"
    return None


_CAPITALISED = re.compile(r"(?<=[\w,;:] )[A-ZÀ-Ý][a-zà-ÿ]+")


def _prepare(text: str) -> list[_Token]:
    text = text[:500]
    # A capitalised word inside a sentence is a name: never "corrected".
    names = {fold(w) for w in _CAPITALISED.findall(text)}
    folded = fold(text)
    folded = _MENTION.sub("", folded)

    def date_token(m):
        year = m.group(3) or ""
        if len(year) == 2:
            year = "20" + year
        return f" dt{int(m.group(1)):02d}x{int(m.group(2)):02d}x{year or '0'} "

    folded = _DATE.sub(date_token, folded)
    folded = _HOURS.sub(r"\1h", folded)
    result = []
    for raw in tokens(folded):
        if raw in ALIASES:
            word = ALIASES[raw]
        elif raw in names or raw in KEYWORDS:
            word = raw
        elif raw.startswith("dt") or _TIME.match(raw):
            word = raw
        else:
            word = correct(raw, VOCABULARY)
        result.append(_Token(raw, word))
    return result


def _day(words: list[str]) -> DayRef | None:
    found = None
    for i, w in enumerate(words):
        if w in DAY_WORDS and DAY_WORDS[w] is not None:
            found = DayRef(offset=DAY_WORDS[w])
        elif w in WEEKDAYS:
            following = words[i + 1] if i + 1 < len(words) else ""
            previous = words[i - 1] if i else ""
            found = DayRef(weekday=WEEKDAYS[w], next_week=following in NEXT or previous in NEXT)
        elif w.startswith("dt"):
            m = re.match(r"^dt(\d{2})x(\d{2})x(\d+)$", w)
            if m:
                year = int(m.group(3)) or None
                found = DayRef(day=int(m.group(1)), month=int(m.group(2)), year=year)
        elif w in ("le", "the") and i + 1 < len(words) and words[i + 1].isdigit():
            number = int(words[i + 1])
            if 1 <= number <= 31 and (i + 2 >= len(words) or not _TIME.match(words[i + 2])):
                found = DayRef(day=number)
    return found


def _time(words: list[str]) -> tuple[int, int] | None:
    for i, w in enumerate(words):
        m = _TIME.match(w)
        if m:
            hour, minute = int(m.group(1)), int(m.group(2) or 0)
            if m.group(3) == "pm" and hour < 12:
                hour += 12
            if m.group(3) == "am" and hour == 12:
                hour = 0
            if hour < 24 and minute < 60:
                return hour, minute
        if w in ("a", "at", "vers", "around") and i + 1 < len(words) and words[i + 1].isdigit():
            hour = int(words[i + 1])
            if 0 <= hour <= 23:
                if hour < 8 and w == "at":
                    hour += 12  # "at 2" in English means the afternoon
                return hour, 0
    for w in words:
        if w in PARTS:
            return PARTS[w]
    return None


def _clean_name(parts: list[_Token]) -> str:
    """The name as typed, without the keywords around it."""
    words = [t for t in parts]
    while words and (words[0].word in FILLER | BE | WHERE | SEEK | {"estceque"}):
        words.pop(0)
    while words and (words[-1].word in STOP_NAME | FILLER | {"moment"}):
        words.pop()
    # Inside a name only a particle may be a keyword ("de", "du", "le", "la").
    out = []
    for t in words:
        if t.word in STOP_NAME and t.raw not in ("de", "du", "le", "la", "des", "van", "von"):
            break
        out.append(t.raw)
    return " ".join(out).strip()


def _team(toks: list[_Token]) -> str | None:
    words = [t.word for t in toks]
    for i, w in enumerate(words):
        if w in TEAM:
            after = [t for t in toks[i + 1:] if t.word not in ("de", "du", "la", "le", "l", "the")]
            name = []
            for t in after:
                if t.word in STOP_NAME | WHO | {"est", "is", "dans", "in", "from", "on"} \
                        | FILLER:
                    break
                name.append(t.raw)
            if name:
                return " ".join(name[:3])
            # "the RH team": the words before
            before = []
            for t in reversed(toks[:i]):
                if t.word in FILLER | STOP_NAME | WHO | {"from", "dans", "in", "the"}:
                    break
                before.insert(0, t.raw)
            if before:
                return " ".join(before[-3:])
    # "qui de la DSI est la", "who from HR is in"
    for i, w in enumerate(words):
        if w in WHO and i + 1 < len(words) and words[i + 1] in ("de", "du", "des", "from"):
            name = []
            for t in toks[i + 2:]:
                if t.word in ("la", "le", "l", "the") and not name:
                    continue
                if t.word in BE | ONSITE | STOP_NAME | FILLER:
                    break
                name.append(t.raw)
            if name:
                return " ".join(name[:3])
    return None


def _room_name(toks: list[_Token]) -> str:
    words = [t.word for t in toks]
    idx = next(i for i, w in enumerate(words) if w in ROOM)
    after = []
    for t in toks[idx + 1:]:
        if t.word in STOP_NAME | FREE | NOW | {"est", "is", "a", "at", "elle", "it"} or \
                _TIME.match(t.word) or t.word.startswith("dt"):
            break
        after.append(t.raw)
    if after:
        return " ".join(after)
    before = []   # "is the Loire room free", "the loire room"
    for t in reversed(toks[:idx]):
        if t.word in FILLER | BE | STOP_NAME | FREE | {"is", "est"}:
            break
        before.insert(0, t.raw)
    return " ".join(before)


def parse(text: str) -> Parsed:
    toks = _prepare(text or "")
    words = [t.word for t in toks]
    language = _language(words)
    content = [w for w in words if w not in FILLER]
    if not content:
        if any(w in GREETING | HELP for w in words) or not words:
            return Parsed(Help(), language)
        return Parsed(NotUnderstood(), language)
    if all(w in HELP | {"que", "sais", "faire", "what", "can", "do"} for w in content):
        return Parsed(Help(), language)
    day = _day(words)

    # Rooms: "la salle Seine est libre à 14h ?", "is room Loire free now?"
    if any(w in ROOM for w in words):
        name = _room_name(toks)
        if name:
            return Parsed(RoomFree(name, day, None if any(w in NOW for w in words)
                                   else _time(words), True), language)

    # Who is on site (a day, maybe a team): "qui est là demain ?", "who's in today?"
    asks_who = any(w in WHO for w in words[:4])
    team = _team(toks)
    if asks_who and (any(w in ONSITE for w in words) or day is not None or team is not None):
        return Parsed(OnSite(day or TODAY, team), language)
    if team is not None and not any(w in WHERE for w in words) and \
            (day is not None or any(w in ONSITE for w in words)):
        return Parsed(OnSite(day or TODAY, team), language)
    if not asks_who and all(w in ONSITE | {"sursite", "onsite"} | set(DAY_WORDS) | set(WEEKDAYS)
                            | NEXT | BE for w in content) and \
            any(w in ("sursite", "onsite") for w in content):
        return Parsed(OnSite(day or TODAY, None), language)

    # Where is X: "où est X", "where is X", "have you seen X", "find X"
    for i, w in enumerate(words):
        if w in WHERE | SEEK:
            name = _clean_name(toks[i + 1:])
            if name:
                return Parsed(WhereIs(name, day), language)
    # "X est là ?", "est-ce que X est sur site", "is X in today?"
    for i, w in enumerate(words):
        if w in ("est", "is", "sera", "are") and i + 1 < len(words):
            rest = [x for x in words[i + 1:] if x not in ("il", "elle", "t")]
            if w == "is" and not any(x in ("is",) for x in words[:i]):
                # English puts the verb first: "is X here?"
                name = _clean_name(toks[i + 1:])
                if name and any(x in ONSITE | FREE for x in words[i + 1:]):
                    return Parsed(WhereIs(name, day), language)
            if rest and (rest[0] in ONSITE | FREE | {"ou", "where"} or
                         rest[0] in DAY_WORDS or rest[0] in WEEKDAYS):
                name = _clean_name(toks[:i])
                if name:
                    if any(x in FREE for x in rest) and (_time(words) or any(x in NOW for x in words)):
                        return Parsed(RoomFree(name, day, None if any(x in NOW for x in words)
                                               else _time(words), False), language)
                    return Parsed(WhereIs(name, day), language)
    # "Seine libre à 14h ?" (a room without the word "room"), "marie sur site demain ?"
    if any(w in FREE for w in words):
        idx = next(i for i, w in enumerate(words) if w in FREE)
        name = _clean_name(toks[:idx])
        if name:
            if _time(words) or any(w in NOW for w in words):
                return Parsed(RoomFree(name, day, None if any(w in NOW for w in words)
                                       else _time(words), False), language)
            return Parsed(WhereIs(name, day), language)
    if any(w in ONSITE for w in words) and not asks_who:
        idx = next(i for i, w in enumerate(words) if w in ONSITE)
        name = _clean_name(toks[:idx])
        if name:
            return Parsed(WhereIs(name, day), language)
    if asks_who:
        return Parsed(OnSite(day or TODAY, team), language)
    # A bare name ("dupont ?", "Marie Dupont"): where is that person.
    name_tokens = [t for t in toks if t.word not in FILLER]
    if 1 <= len(name_tokens) <= 4 and all(t.raw.isalpha() for t in name_tokens):
        name = _clean_name(toks)
        if name:
            return Parsed(WhereIs(name, day), language)
    return Parsed(NotUnderstood(), language)
