"""The bot's parser over many phrasings: French and English, accents or
not, polite or terse, with typos in the keywords."""

from datetime import date

import pytest

from notify.domain.bot.parser import DayRef, Help, NotUnderstood, OnSite, RoomFree, WhereIs, parse

pytestmark = pytest.mark.unit

TODAY_ = DayRef(offset=0)
TOMORROW = DayRef(offset=1)
TUESDAY = DayRef(weekday=1)

CASES = [
    # where is X (French)
    ("où est Marie Dupont ?", WhereIs("marie dupont"), "fr"),
    ("ou est marie dupont", WhereIs("marie dupont"), "fr"),
    ("Où est Dupont", WhereIs("dupont"), "fr"),
    ("ou ets dupont", WhereIs("dupont"), "fr"),
    ("ou est dupnot ?", WhereIs("dupnot"), "fr"),
    ("Bonjour, où se trouve Marie Dupont s'il te plaît ?", WhereIs("marie dupont"), "fr"),
    ("Salut ! tu sais où est Marie ? merci", WhereIs("marie"), "fr"),
    ("marie est là ?", WhereIs("marie"), "fr"),
    ("Marie est la", WhereIs("marie"), "fr"),
    ("est-ce que Marie est sur site ?", WhereIs("marie"), "fr"),
    ("Est ce que Marie Dupont est au bureau ?", WhereIs("marie dupont"), "fr"),
    ("Marie Dupont est-elle là aujourd'hui ?", WhereIs("marie dupont", TODAY_), "fr"),
    ("t'as vu Marie ?", WhereIs("marie"), "fr"),
    ("où sera Paul demain ?", WhereIs("paul", TOMORROW), "fr"),
    ("ou travaille dupont mardi", WhereIs("dupont", TUESDAY), "fr"),
    ("Où est Jean-Pierre Lefèvre ?", WhereIs("jean pierre lefevre"), "fr"),
    ("où est Anne de la Tour ?", WhereIs("anne de la tour"), "fr"),
    ("ou est hélène stp", WhereIs("helene"), "fr"),
    # where is X (English)
    ("where is dupont", WhereIs("dupont"), "en"),
    ("Where is Marie Dupont please?", WhereIs("marie dupont"), "en"),
    ("where's Marie?", WhereIs("marie"), "en"),
    ("wheres dupont", WhereIs("dupont"), "en"),
    ("wher is dupont", WhereIs("dupont"), "en"),
    ("is marie here?", WhereIs("marie"), "en"),
    ("Is Marie Dupont in the office today?", WhereIs("marie dupont", TODAY_), "en"),
    ("is dupont in", WhereIs("dupont"), "en"),
    ("have you seen Marie?", WhereIs("marie"), "en"),
    ("find marie dupont", WhereIs("marie dupont"), "en"),
    ("hi, could you tell me where Paul Martin is?", WhereIs("paul martin"), "en"),
    ("where will paul be tomorrow", WhereIs("paul", TOMORROW), "en"),
    # a bare name
    ("dupont ?", WhereIs("dupont"), None),
    ("Marie Dupont", WhereIs("marie dupont"), None),
    # who is on site (French)
    ("qui est sur site aujourd'hui ?", OnSite(TODAY_), "fr"),
    ("Qui est sur site aujourdhui", OnSite(TODAY_), "fr"),
    ("qui est sur site demain ?", OnSite(TOMORROW), "fr"),
    ("qui est sur site mardi ?", OnSite(TUESDAY), "fr"),
    ("qui est là demain", OnSite(TOMORROW), "fr"),
    ("qui est la", OnSite(TODAY_), "fr"),
    ("qui vient mardi ?", OnSite(TUESDAY), "fr"),
    ("qui est au bureau jeudi", OnSite(DayRef(weekday=3)), "fr"),
    ("qui est présent vendredi", OnSite(DayRef(weekday=4)), "fr"),
    ("qui est sur sitte demian", OnSite(TOMORROW), "fr"),
    ("qui est sur site mardi prochain", OnSite(DayRef(weekday=1, next_week=True)), "fr"),
    ("qui de l'équipe RH est sur site demain ?", OnSite(TOMORROW, "rh"), "fr"),
    ("qui est sur site demain dans l'équipe DSI", OnSite(TOMORROW, "dsi"), "fr"),
    ("qui de la DSI est là mardi ?", OnSite(TUESDAY, "dsi"), "fr"),
    ("équipe DSI mardi ?", OnSite(TUESDAY, "dsi"), "fr"),
    ("sur site demain ?", OnSite(TOMORROW), "fr"),
    ("qui est sur site le 12/03 ?", OnSite(DayRef(day=12, month=3)), "fr"),
    # who is on site (English)
    ("who is on site today?", OnSite(TODAY_), "en"),
    ("who's in tomorrow?", OnSite(TOMORROW), "en"),
    ("who is in the office on tuesday", OnSite(TUESDAY), "en"),
    ("who's coming in on wednesday?", OnSite(DayRef(weekday=2)), "en"),
    ("who from HR is in today", OnSite(TODAY_, "hr"), "en"),
    ("who is on site tomorrow from team DSI", OnSite(TOMORROW, "dsi"), "en"),
    ("anyone from the IT team in on friday?", OnSite(DayRef(weekday=4), "it"), "en"),
    ("who is here", OnSite(TODAY_), "en"),
    ("who is on site tommorow", OnSite(TOMORROW), "en"),
    ("who is onsite on thursday", OnSite(DayRef(weekday=3)), "en"),
    # rooms (French)
    ("la salle Seine est libre à 14h ?", RoomFree("seine", None, (14, 0)), "fr"),
    ("salle seine libre 14h", RoomFree("seine", None, (14, 0)), "fr"),
    ("est-ce que la salle Seine est dispo à 14h30 ?", RoomFree("seine", None, (14, 30)), "fr"),
    ("la salle Loire est-elle libre maintenant ?", RoomFree("loire", None, None), "fr"),
    ("la sale seine est libre a 14h", RoomFree("seine", None, (14, 0)), "fr"),
    ("salle Seine demain à 10h", RoomFree("seine", TOMORROW, (10, 0)), "fr"),
    ("la salle de réunion Seine est-elle libre cet après-midi ?",
     RoomFree("seine", None, (14, 0)), "fr"),
    ("La salle Seine est libre à 14 heures ?", RoomFree("seine", None, (14, 0)), "fr"),
    ("Seine libre à 14h ?", RoomFree("seine", None, (14, 0), explicit=False), "fr"),
    ("salle seine libre a 9h15 mardi", RoomFree("seine", TUESDAY, (9, 15)), "fr"),
    # rooms (English)
    ("is room Loire free now?", RoomFree("loire", None, None), "en"),
    ("is the Loire room available at 2pm?", RoomFree("loire", None, (14, 0)), "en"),
    ("room loire free at 14:00", RoomFree("loire", None, (14, 0)), "en"),
    ("is room loire fre now", RoomFree("loire", None, None), "en"),
    ("is meeting room Loire free tomorrow at 10am", RoomFree("loire", TOMORROW, (10, 0)), "en"),
    ("Is room Loire busy at 3:30 pm?", RoomFree("loire", None, (15, 30)), "en"),
    ("room Loire free right now?", RoomFree("loire", None, None), "en"),
    # help and the rest
    ("aide", Help(), "fr"),
    ("help", Help(), "en"),
    ("bonjour", Help(), "fr"),
    ("what can you do", Help(), "en"),
    ("", Help(), None),
    ("blabla quoi de neuf chez toi les amis", NotUnderstood(), None),
]


@pytest.mark.parametrize("text,question,language", CASES, ids=[c[0] or "empty" for c in CASES])
def test_phrasing(text, question, language):
    parsed = parse(text)
    assert parsed.question == question
    if language is not None:
        assert parsed.language == language


def test_the_table_is_large_enough():
    assert len(CASES) >= 60
    assert sum(1 for _, _, lang in CASES if lang == "fr") >= 30
    assert sum(1 for _, _, lang in CASES if lang == "en") >= 25


def test_days_resolve_against_today():
    tuesday = date(2026, 3, 10)  # a Tuesday
    assert DayRef(weekday=1).resolve(tuesday) == tuesday
    assert DayRef(weekday=1, next_week=True).resolve(tuesday) == date(2026, 3, 17)
    assert DayRef(weekday=4).resolve(tuesday) == date(2026, 3, 13)
    assert DayRef(offset=1).resolve(tuesday) == date(2026, 3, 11)
    assert DayRef(day=12, month=3).resolve(tuesday) == date(2026, 3, 12)
    assert DayRef(day=2, month=1).resolve(tuesday) == date(2027, 1, 2)


def test_names_are_kept_as_typed_even_near_keywords():
    # "Mardi" would be a day; "Marie" must stay a name.
    assert parse("où est Marie Loire ?").question == WhereIs("marie loire")
    assert parse("where is Paul Martin").question == WhereIs("paul martin")
    assert parse("ou est martin").question == WhereIs("martin")
