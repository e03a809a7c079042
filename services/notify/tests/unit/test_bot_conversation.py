"""Replies built from what presence and booking answer (a fake of the
port): matches, lists to choose from, suggestions, privacy, rooms."""

from datetime import datetime, timezone

import pytest

from notify.domain.bot.conversation import Unavailable, reply

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc)  # a Tuesday, 10:30 in Paris
ASKER = "a0000000-0000-4000-8000-000000000001"
DSI = {"id": "t-dsi", "code": "DSI", "name": "Direction des systèmes d'information"}
RH = {"id": "t-rh", "code": "RH", "name": "Ressources humaines"}


def card(pid, name, dept="", teams=()):
    given, _, family = name.partition(" ")
    return {"id": pid, "display_name": name, "given_name": given, "family_name": family,
            "department": dept, "job_title": "", "teams": list(teams)}


MARIE = card("p-marie", "Marie Dupont", "DSI", [DSI])
MARIE2 = card("p-marie2", "Marie Durand", "RH", [RH])
PAUL = card("p-paul", "Paul Martin", "RH", [RH])
ON_SITE = {"status": "on_site", "signal": "booking", "since": None, "until": None, "label": None,
           "place": {"site_id": "s1", "site_name": "Hôtel de ville", "resource_name": "Bureau 12",
                     "resource_code": "D12"},
           "reach": [{"channel": "phone", "value": "1234", "href": "tel:1234"},
                     {"channel": "video", "value": "Visio", "href": "https://visio.example/marie"}]}
HIDDEN = {"status": "not_available", "signal": None, "reach": [
    {"channel": "email", "value": "paul@example.org", "href": "mailto:paul@example.org"}]}


class FakeLookups:
    def __init__(self):
        self.calls = []
        self.people = {ASKER: {**card(ASKER, "Camille Asker", "DSI", [DSI]), "language": "fr"}}
        self.matches = {
            "marie dupont": [{"person": MARIE, "presence": ON_SITE, "score": 0.97},
                             {"person": MARIE2, "presence": ON_SITE, "score": 0.55}],
            "marie": [{"person": MARIE, "presence": ON_SITE, "score": 0.9},
                      {"person": MARIE2, "presence": ON_SITE, "score": 0.9}],
            "paul": [{"person": PAUL, "presence": HIDDEN, "score": 0.95}],
            "dupond": [{"person": MARIE, "presence": ON_SITE, "score": 0.6}],
        }
        self.roster = [
            {"person": MARIE, "am": {"status": "on_site"}, "pm": {"status": "on_site"},
             "desks": [{"resource_name": "Bureau 12"}]},
            {"person": PAUL, "am": {"status": "on_site"}, "pm": {"status": "remote"}, "desks": []},
        ]
        self.rooms_ = [
            {"id": "r-seine", "site_id": "s1", "kind": "room", "code": "SEINE", "name": "Seine"},
            {"id": "r-loire", "site_id": "s1", "kind": "room", "code": "LOIRE", "name": "Loire"},
        ]
        self.status = {"r-seine": "free", "r-loire": "booked"}
        self.down = False

    def _check(self):
        if self.down:
            raise Unavailable()

    def person(self, person_id):
        return self.people.get(person_id)

    def find_people(self, actor, q, at):
        self._check()
        self.calls.append(("find_people", actor, q, at))
        return self.matches.get(q, [])

    def on_site(self, actor, day):
        self._check()
        self.calls.append(("on_site", actor, day))
        return self.roster

    def rooms(self):
        return self.rooms_

    def site(self, site_id):
        return {"id": "s1", "name": "Hôtel de ville", "timezone": "Europe/Paris"}

    def availability(self, actor, start, end, site_id):
        self._check()
        self.calls.append(("availability", actor, start, end, site_id))
        return [{**r, "status": self.status[r["id"]]} for r in self.rooms_]


@pytest.fixture
def lookups():
    return FakeLookups()


def test_where_is_answers_with_place_and_how_to_reach(lookups):
    answer = reply("où est Marie Dupont ?", ASKER, NOW, lookups)
    assert answer.language == "fr"
    assert "Marie Dupont (DSI) : sur site — Hôtel de ville, Bureau 12." in answer.text
    assert "téléphone 1234" in answer.text and "https://visio.example/marie" in answer.text
    # the asker is the actor: presence filters by what they may see
    assert lookups.calls[0][1] == {"person_id": ASKER, "role": "bot", "site_ids": [],
                                   "room_id": None}


def test_english_question_gets_an_english_answer(lookups):
    answer = reply("where is marie dupont", ASKER, NOW, lookups)
    assert answer.language == "en"
    assert answer.text.startswith("Marie Dupont (DSI): on site")


def test_several_matches_give_a_list_to_choose_from(lookups):
    answer = reply("where is marie", ASKER, NOW, lookups)
    assert "Several people match" in answer.text
    assert "Marie Dupont (DSI)" in answer.text and "Marie Durand (RH)" in answer.text


def test_no_match_says_so_and_suggests_close_names(lookups):
    answer = reply("ou est dupond ?", ASKER, NOW, lookups)
    assert "Je ne trouve personne qui s'appelle « dupond »" in answer.text
    assert "Vouliez-vous dire : Marie Dupont (DSI) ?" in answer.text
    assert "personne" in reply("ou est zzyzx", ASKER, NOW, lookups).text


def test_hidden_presence_reads_not_available(lookups):
    en = reply("is paul here?", ASKER, NOW, lookups).text
    assert "Paul Martin (RH): presence not available." in en
    assert "on site" not in en
    fr = reply("paul est là ?", ASKER, NOW, lookups).text
    assert "information de présence non disponible" in fr


def test_a_future_day_is_asked_for_that_day(lookups):
    reply("où sera Marie Dupont demain ?", ASKER, NOW, lookups)
    assert lookups.calls[-1][3].startswith("2026-03-11T10:00:00")


def test_who_is_on_site_defaults_to_the_askers_teams(lookups):
    answer = reply("qui est sur site aujourd'hui ?", ASKER, NOW, lookups)
    assert lookups.calls[-1][2] == "2026-03-10"
    assert "Marie Dupont" in answer.text and "Paul Martin" not in answer.text
    assert "(vos équipes)" in answer.text


def test_who_is_on_site_in_a_named_team(lookups):
    answer = reply("qui de l'équipe RH est là mardi prochain ?", ASKER, NOW, lookups)
    assert lookups.calls[-1][2] == "2026-03-17"
    assert "Paul Martin (RH) (matin)" in answer.text and "Marie Dupont" not in answer.text


def test_nobody_on_site(lookups):
    lookups.roster = []
    assert "Nobody is planned on site tomorrow" in reply("who's in tomorrow?", ASKER, NOW,
                                                          lookups).text


def test_room_free_at_a_time(lookups):
    answer = reply("la salle Seine est libre à 14h ?", ASKER, NOW, lookups)
    assert answer.text == "La salle Seine (Hôtel de ville) est libre de 14:00 à 14:30."
    call = lookups.calls[-1]
    assert call[2] == "2026-03-10T14:00:00+01:00" and call[3] == "2026-03-10T14:30:00+01:00"


def test_room_busy_now(lookups):
    answer = reply("is room Loire free now?", ASKER, NOW, lookups)
    assert answer.text == "Room Loire (Hôtel de ville) is booked from 10:30 to 11:00."


def test_room_names_tolerate_typos_and_unknown_rooms_get_suggestions(lookups):
    assert reply("salle sene libre ?", ASKER, NOW, lookups).text.startswith("La salle Seine")
    close = reply("salle Sienne libre ?", ASKER, NOW, lookups).text
    assert close == "Je ne trouve pas de salle « sienne ». Vouliez-vous dire : Seine ?"
    assert reply("salle Garonne libre ?", ASKER, NOW, lookups).text == \
        "Je ne trouve pas de salle « garonne »."


def test_a_room_word_without_room_falls_back_to_a_person(lookups):
    answer = reply("Marie Dupont libre maintenant ?", ASKER, NOW, lookups)
    assert "sur site" in answer.text


def test_unknown_asker_gets_no_presence(lookups):
    answer = reply("où est Marie Dupont ?", None, NOW, lookups)
    assert "Je ne sais pas qui vous êtes" in answer.text
    assert lookups.calls == []


def test_help_and_not_understood(lookups):
    assert "où est Marie Dupont" in reply("aide", ASKER, NOW, lookups).text
    assert reply("blabla quoi de neuf chez toi les amis", ASKER, NOW,
                 lookups).text.startswith("Je n'ai pas compris.")


def test_a_service_down_is_said_plainly(lookups):
    lookups.down = True
    assert "ne répond pas" in reply("où est Marie Dupont ?", ASKER, NOW, lookups).text
