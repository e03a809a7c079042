"""Walk-in bookings (no owner) in the domain's access and availability rules."""

import pytest

from booking.domain import errors
from booking.domain.access import Actor, may_change, require_room_device, visible_booking
from booking.domain.availability import Occupation, statuses
from booking.domain.model import Resource

pytestmark = pytest.mark.unit

ROOM = Resource(id="r1", site_id="s", kind="room", name="Salle du conseil")
WALK_IN = {"id": "b", "resource_id": "r1", "site_id": "s", "person_id": None, "title": "",
           "source": "tablet", "series_id": None, "created_at": "t", "checked_in_at": "t"}
TABLET = Actor(person_id=None, role="device", room_id="r1", device_id="d1")


def test_a_walk_in_is_nobodys_even_for_a_caller_without_a_person():
    for caller in (None, "me"):
        [(_, row)] = statuses([ROOM], [Occupation("b", "r1", None)], caller, set(), None)
        assert row["status"] == "booked"
    assert not may_change(Actor(person_id=None, role="agent"), None, "s")


def test_the_rooms_tablet_sees_a_walk_in_as_such_and_others_see_a_taken_room():
    assert visible_booking(TABLET, WALK_IN)["walk_in"] is True
    seen = visible_booking(Actor(person_id="me", role="agent"), WALK_IN)
    assert "person_id" not in seen and "walk_in" not in seen
    assert visible_booking(Actor(person_id=None, role="admin"), WALK_IN)["person_id"] is None


def test_only_a_rooms_tablet_books_now_and_only_its_own_room():
    assert require_room_device(TABLET) == "r1"
    for actor in (Actor(person_id="me", role="agent"), Actor(person_id=None, role="admin"),
                  Actor(person_id=None, role="device", room_id="r1"),
                  Actor(person_id=None, role="device", device_id="d1")):
        with pytest.raises(errors.Forbidden):
            require_room_device(actor)


def test_an_anonymised_booking_is_no_walk_in():
    erased = {**WALK_IN, "source": "api"}  # its person was erased (GDPR): no owner, no walk-in
    assert visible_booking(TABLET, erased)["walk_in"] is False
