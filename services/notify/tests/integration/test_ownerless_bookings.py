"""Walk-in bookings from a room's door tablet have no owner: their events
are handled without error and nobody gets an email, a chat message, a
reminder or a no-show warning."""

import uuid
from datetime import timedelta

import pytest

from .test_scheduling import POLICY, SENDER, at, deliveries, event, settle, store  # noqa: F401
from notify import usecases

pytestmark = pytest.mark.integration


def walk_in(kind, booking_id, status="checked_in"):
    ev = event(kind, booking_id=booking_id, start=at(10, 9), status=status)
    ev["person"] = None
    ev["booking"].update(person_id=None, source="tablet", resource_kind="room")
    return ev


def test_an_ownerless_booking_notifies_nobody_and_schedules_nothing(store):  # noqa: F811
    settle(store)
    booking_id = str(uuid.uuid4())
    for kind in ("booking.created", "booking.updated", "booking.released", "booking.cancelled",
                 "booking.ended"):
        assert usecases.handle_booking_event(store, at(10, 8), walk_in(kind, booking_id), SENDER, True,
                                             POLICY, lambda site, resource_kind: 15) == 0
    assert deliveries(store, booking_id) == []
    with store.pool.connection() as conn:
        scheduled = conn.execute("SELECT count(*) AS n FROM scheduled WHERE booking_id = %s",
                                 (booking_id,)).fetchone()["n"]
    assert scheduled == 0
    # Time passes: no reminder or warning comes out of it either.
    assert usecases.run_scheduled(store, at(10, 9) + timedelta(minutes=10), SENDER, True) == 0
