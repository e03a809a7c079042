"""Day plans, booking event ranks, contact channels and people search."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from presence.domain import errors
from presence.domain.bookings import fact_from_payload, rank, supersedes
from presence.domain.model import BookingFact, DayFrame, Slot
from presence.domain.plans import check_days, check_pattern, day_plan, pattern_to_wire
from presence.domain.reach import reach
from presence.domain.search import Index, fold, name_words

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 3, 10)
FRAME = DayFrame(DAY, PARIS, time(13, 0))
SITE = "11111111-1111-1111-1111-111111111111"
OTHER_SITE = "22222222-2222-2222-2222-222222222222"


def desk(start, end, status="confirmed", site=SITE):
    return BookingFact("b", "p", "desk", status, datetime.combine(DAY, time(*start), PARIS),
                       datetime.combine(DAY, time(*end), PARIS), {"site_id": site})


# --- day plans ---------------------------------------------------------------------------

def test_a_desk_booking_makes_the_half_days_it_covers_on_site():
    plan = day_plan(FRAME, {}, [desk((9, 0), (12, 0))], {})
    assert plan.am == Slot("on_site", SITE, "booking") and plan.pm == Slot()


def test_a_declaration_beats_a_booking_which_beats_the_pattern():
    pattern = {"am": Slot("remote"), "pm": Slot("remote")}
    plan = day_plan(FRAME, {"am": Slot("off")}, [desk((8, 0), (18, 0))], pattern)
    assert plan.am == Slot("off", None, "declared")
    assert plan.pm == Slot("on_site", SITE, "booking")
    assert day_plan(FRAME, {}, [], pattern).pm == Slot("remote", None, "pattern")


@pytest.mark.parametrize("status,counts", [("confirmed", True), ("checked_in", True), ("ended", True),
                                           ("cancelled", False), ("released", False)])
def test_which_bookings_make_a_day(status, counts):
    plan = day_plan(FRAME, {}, [desk((14, 0), (15, 0), status)], {})
    assert (plan.pm.status == "on_site") is counts


def test_plan_days_are_checked_and_expanded():
    changes = check_days([{"date": "2026-03-11", "period": "day", "status": "on_site", "site_id": SITE},
                          {"date": "2026-03-12", "period": "afternoon", "status": None}],
                         DAY, {SITE})
    assert changes == {(date(2026, 3, 11), "am"): ("on_site", SITE), (date(2026, 3, 11), "pm"): ("on_site", SITE),
                       (date(2026, 3, 12), "pm"): (None, None)}
    for days, field in (
        ([{"date": "2026-03-11", "status": "remote"}, {"date": "2026-03-11", "period": "morning",
                                                         "status": "off"}], "days[1]"),
        ([{"date": "2026-06-01", "status": "remote"}], "days[0].date"),
        ([{"date": "2026-03-11", "status": "on_site", "site_id": OTHER_SITE}], "days[0].site_id"),
        ([{"date": "2026-03-11"}], "days[0].status"),
        ([{"date": "11/03/2026", "status": "off"}], "days[0].date"),
    ):
        with pytest.raises(errors.Invalid) as bad:
            check_days(days, DAY, {SITE})
        assert bad.value.details["field"] == field


def test_a_weekly_pattern_round_trips_in_its_shortest_form():
    rows = check_pattern([{"weekday": 5, "period": "day", "status": "remote"},
                          {"weekday": 2, "period": "morning", "status": "on_site", "site_id": SITE},
                          {"weekday": 2, "period": "afternoon", "status": "remote"}], {SITE})
    assert pattern_to_wire(rows) == [
        {"weekday": 2, "period": "morning", "status": "on_site", "site_id": SITE},
        {"weekday": 2, "period": "afternoon", "status": "remote", "site_id": None},
        {"weekday": 5, "period": "day", "status": "remote", "site_id": None},
    ]
    assert check_pattern([], {SITE}) == {}
    with pytest.raises(errors.Invalid):
        check_pattern([{"weekday": 8, "status": "remote"}], {SITE})


# --- booking events --------------------------------------------------------------------------

def test_a_bookings_life_only_moves_forward():
    assert rank("confirmed") < rank("checked_in") < rank("cancelled") == rank("ended") == rank("released")
    assert supersedes("cancelled", "confirmed") and not supersedes("confirmed", "cancelled")
    assert not supersedes("confirmed", "confirmed")  # the same event twice changes nothing


def test_a_fact_from_a_booking_event():
    payload = {"booking": {"id": "a" * 8 + "-0000-4000-8000-" + "0" * 12, "status": "confirmed",
                           "start": "2026-03-10T09:00:00+01:00", "end": "2026-03-10T12:00:00+01:00",
                           "resource_id": "b" * 8 + "-0000-4000-8000-" + "0" * 12, "resource_kind": "room",
                           "site_id": SITE, "person_id": "c" * 8 + "-0000-4000-8000-" + "0" * 12},
               "resource": {"code": "R1", "name": "Salle Seine"}, "site": {"name": "Mairie"}}
    fact = fact_from_payload("booking.cancelled", payload)
    assert fact.status == "cancelled" and fact.kind == "room"   # the event type decides the state
    assert fact.place["resource_name"] == "Salle Seine" and fact.place["site_name"] == "Mairie"
    with pytest.raises(errors.Invalid):
        fact_from_payload("booking.created", {"booking": {"id": "x"}})


# --- how to reach someone --------------------------------------------------------------------

CONTACTS = {"phone_extension": "42 42", "softphone": "+33 1 23 45 67 89", "video_url": "https://visio.example/abc",
            "chat_handle": "@marie:tchap.gouv.fr", "email": "marie@mairie.fr"}


def test_channels_follow_the_status_and_the_preferred_one_comes_first():
    assert [c["channel"] for c in reach(CONTACTS, "on_site")][:2] == ["phone", "chat"]
    assert [c["channel"] for c in reach(CONTACTS, "remote")][:2] == ["softphone", "video"]
    assert [c["channel"] for c in reach(CONTACTS, "do_not_disturb")][:2] == ["chat", "email"]
    assert reach({**CONTACTS, "preferred_channel": "video"}, "on_site")[0]["channel"] == "video"
    by_channel = {c["channel"]: c for c in reach(CONTACTS, None)}
    assert by_channel["phone"]["href"] == "tel:4242"
    assert by_channel["softphone"]["href"] == "tel:+33123456789"
    assert by_channel["chat"]["href"] == "https://matrix.to/#/@marie:tchap.gouv.fr"
    assert by_channel["email"]["href"] == "mailto:marie@mairie.fr"
    assert reach({"email": "", "video_url": "http://insecure"}, None) == []


# --- people search ---------------------------------------------------------------------------

PEOPLE = [
    {"id": "1", "display_name": "Marie-Hélène Dupont", "given_name": "Marie-Hélène", "family_name": "Dupont",
     "department": "Finances", "email": "mh.dupont@mairie.fr"},
    {"id": "2", "display_name": "Marie-Hélène Dupont", "given_name": "Marie-Hélène", "family_name": "Dupont",
     "department": "Culture", "email": "marie-helene.dupont@mairie.fr"},
    {"id": "3", "display_name": "Hélène Lefèvre-Durand", "given_name": "Hélène", "family_name": "Lefèvre-Durand",
     "department": "RH"},
    {"id": "4", "display_name": "Jean de La Fontaine", "given_name": "Jean", "family_name": "de La Fontaine",
     "department": "Culture"},
    {"id": "5", "display_name": "Aïssatou N'Diaye", "given_name": "Aïssatou", "family_name": "N'Diaye",
     "department": "Sports"},
    {"id": "6", "display_name": "Œdipe Bœuf", "given_name": "Œdipe", "family_name": "Bœuf", "department": "DSI"},
]
INDEX = Index(PEOPLE)


def ids(q):
    return [m.person_id for m in INDEX.search(q, 10)]


def test_folding():
    assert fold("Marie-Hélène") == "marie helene" and fold("Bœuf") == "boeuf"
    assert {"marie", "helene", "mariehelene"} <= name_words("Marie-Hélène")


@pytest.mark.parametrize("q,expected", [
    ("helene", {"1", "2", "3"}),          # any part of a hyphenated name, no accents
    ("HÉLÈNE", {"1", "2", "3"}),
    ("mariehelene", {"1", "2"}),          # the compound joined up
    ("marie-helene dupont", {"1", "2"}),
    ("dupon", {"1", "2"}),                # a prefix
    ("dupond", {"1", "2"}),               # a typing error
    ("lefevre", {"3"}), ("durand", {"3"}),
    ("lafontaine", {"4"}), ("fontaine", {"4"}),
    ("ndiaye", {"5"}), ("diaye", {"5"}),
    ("boeuf", {"6"}), ("oedipe", {"6"}),
])
def test_search_finds_people_by_what_is_typed(q, expected):
    assert set(ids(q)) == expected


def test_homonyms_are_told_apart_by_department():
    assert ids("dupont culture")[0] == "2" and ids("dupont finances")[0] == "1"


def test_exact_words_rank_first_and_nothing_is_found_for_nothing():
    exact, prefix = INDEX.search("dupont", 10)[0].score, INDEX.search("dupo", 10)[0].score
    assert exact == 1.0 and 0.85 <= prefix < exact
    assert INDEX.search("dupond", 10)[0].score < prefix    # a typing error scores below a prefix
    assert INDEX.search("", 10) == [] and INDEX.search("zzzz", 10) == []
    scores = {m.person_id: m.score for m in INDEX.search("hele", 10)}
    assert all(0 < s <= 1 for s in scores.values())
