import pytest

from booking.domain import errors
from booking.domain.access import Actor, booking_person, require_change, visible_booking
from booking.domain.availability import Occupation, matches, rank_near_team, statuses
from booking.domain.model import Resource

pytestmark = pytest.mark.unit


def desk(i, zone="z1", x=None, y=None, **kw):
    return Resource(id=f"d{i}", site_id="s", kind="desk", name=f"D{i}", zone_id=zone, x=x, y=y, **kw)


def test_statuses_say_free_booked_mine_restricted_and_closed():
    desks = [desk(1), desk(2), desk(3), desk(4, restricted_team_ids=frozenset({"rh"}))]
    occupations = [Occupation("b1", "d1", "me"), Occupation("b2", "d2", "other")]
    rows = statuses(desks, occupations, "me", {"dsi"}, None)
    assert [row["status"] for _, row in rows] == ["mine", "booked", "free", "restricted"]
    closed = statuses(desks, occupations, "me", {"dsi"}, "public_holiday")
    assert {row["status"] for _, row in closed} == {"closed"}


def test_attribute_and_capacity_filters():
    room = Resource(id="r", site_id="s", kind="room", name="Seine", capacity=8,
                    attributes={"video_conferencing": True, "screens": 2})
    assert matches(room, {"video_conferencing": True}, 6)
    assert matches(room, {"screens": 2}, None)
    assert not matches(room, {"screens": 3}, None)
    assert not matches(room, {"standing": True}, None)
    assert not matches(room, {}, 10)


def test_near_my_team_puts_the_team_zone_then_the_closest_desks_first():
    desks = [desk(1, zone="far", x=900, y=500), desk(2, zone="far", x=120, y=100),
             desk(3, zone="team", x=500, y=300), desk(4, zone="far", x=110, y=90)]
    rows = statuses(desks, [Occupation("b", "d4", "mate")], "me", set(), None)
    ranked = rank_near_team(rows, {"team"}, anchors=[(110, 90)])
    assert [r.id for r, _ in ranked] == ["d3", "d2", "d1", "d4"]


AGENT = Actor(person_id="p1", role="agent")
OTHER = Actor(person_id="p2", role="agent")
SITE_ADMIN = Actor(person_id="p3", role="site_admin", site_ids=frozenset({"s"}))
ELSEWHERE_ADMIN = Actor(person_id="p4", role="site_admin", site_ids=frozenset({"t"}))
BOT = Actor(person_id=None, role="bot")


def test_who_may_change_a_booking():
    require_change(AGENT, "p1", "s")
    require_change(SITE_ADMIN, "p1", "s")
    for actor in (OTHER, ELSEWHERE_ADMIN, BOT):
        with pytest.raises(errors.Forbidden):
            require_change(actor, "p1", "s")


def test_who_may_book_for_whom():
    assert booking_person(AGENT, None, "s") == "p1"
    assert booking_person(SITE_ADMIN, "p1", "s") == "p1"
    with pytest.raises(errors.Forbidden):
        booking_person(AGENT, "p2", "s")
    with pytest.raises(errors.Forbidden):
        booking_person(ELSEWHERE_ADMIN, "p1", "s")
    with pytest.raises(errors.Forbidden):
        booking_person(BOT, None, "s")


def test_others_see_that_a_desk_is_taken_not_by_whom():
    booking = {"id": "b", "person_id": "p1", "site_id": "s", "title": "Entretien", "start": "x", "end": "y"}
    assert visible_booking(AGENT, booking) == booking
    seen = visible_booking(OTHER, booking)
    assert "person_id" not in seen and "title" not in seen and seen["start"] == "x"
