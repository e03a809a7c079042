"""The authorisation policy: which role may take which action, on which site."""

from __future__ import annotations

import uuid

import pytest

from gateway.policy import Action, Actor, Denied, Role, can, check, check_booking_for

pytestmark = pytest.mark.unit

SITE = uuid.uuid4()
OTHER_SITE = uuid.uuid4()
ME = uuid.uuid4()


def actor(role: Role, **kw) -> Actor:
    return Actor(token_id=uuid.uuid4(), role=role, email="x@example.org", **kw)


AGENT = actor(Role.AGENT, person_id=ME)
SITE_ADMIN = actor(Role.SITE_ADMIN, person_id=ME, site_ids=frozenset({SITE}))
ADMIN = actor(Role.ADMIN)
BOT = actor(Role.BOT)
DEVICE = actor(Role.DEVICE, room_id=uuid.uuid4())

READS = [Action.READ_CATALOG, Action.READ_AVAILABILITY, Action.READ_PEOPLE]
OWN_BOOKINGS = [Action.BOOK, Action.READ_BOOKINGS, Action.CANCEL_BOOKING, Action.CHECK_IN]
ADMIN_ONLY = [Action.CREATE_SITE, Action.IMPORT_PEOPLE]
SITE_ADMIN_ACTIONS = [Action.MANAGE_CATALOG, Action.MANAGE_RULES, Action.IMPORT_RESOURCES,
                      Action.BOOK_FOR_OTHERS]


@pytest.mark.parametrize("action", READS + OWN_BOOKINGS)
def test_agent_reads_and_handles_own_bookings(action):
    assert can(AGENT, action)


@pytest.mark.parametrize("action", SITE_ADMIN_ACTIONS + ADMIN_ONLY)
def test_agent_administers_nothing(action):
    with pytest.raises(Denied) as denied:
        check(AGENT, action, SITE)
    assert denied.value.reason == "forbidden_action"


@pytest.mark.parametrize("action", READS)
def test_bot_reads(action):
    assert can(BOT, action)


@pytest.mark.parametrize("action", OWN_BOOKINGS + SITE_ADMIN_ACTIONS + ADMIN_ONLY)
def test_bot_writes_nothing_and_reads_no_bookings(action):
    assert not can(BOT, action)


def test_device_reads_the_catalogue_and_uses_its_display_only():
    allowed = {a for a in Action if can(DEVICE, a)}
    assert allowed == {Action.READ_CATALOG, Action.READ_ME, Action.DISPLAY, Action.LIVE}


@pytest.mark.parametrize("role_actor", [AGENT, SITE_ADMIN, BOT, DEVICE])
def test_only_an_admin_manages_devices(role_actor):
    assert not can(role_actor, Action.MANAGE_DEVICES)
    assert can(ADMIN, Action.MANAGE_DEVICES)


@pytest.mark.parametrize("action", SITE_ADMIN_ACTIONS)
def test_site_admin_acts_on_own_site_only(action):
    assert can(SITE_ADMIN, action, SITE)
    assert can(SITE_ADMIN, action, str(SITE))
    with pytest.raises(Denied) as denied:
        check(SITE_ADMIN, action, OTHER_SITE)
    assert denied.value.reason == "forbidden_site"
    # site unknown to the gateway: the booking service decides
    assert can(SITE_ADMIN, action, None)


@pytest.mark.parametrize("action", ADMIN_ONLY)
def test_site_admin_cannot_create_sites_or_import_people(action):
    assert not can(SITE_ADMIN, action, SITE)


def test_admin_may_do_everything_everywhere():
    assert all(can(ADMIN, a, OTHER_SITE) for a in Action)


def test_booking_for_someone_else():
    check_booking_for(AGENT, None)
    check_booking_for(AGENT, ME)
    with pytest.raises(Denied) as denied:
        check_booking_for(AGENT, uuid.uuid4())
    assert denied.value.reason == "forbidden_other_person"
    check_booking_for(ADMIN, uuid.uuid4())
    with pytest.raises(Denied):
        check_booking_for(BOT, None)


def test_actor_for_rpc_has_the_contract_shape():
    assert SITE_ADMIN.for_rpc() == {
        "person_id": str(ME), "role": "site_admin", "site_ids": [str(SITE)], "room_id": None,
    }
    assert DEVICE.for_rpc()["device_id"] == str(DEVICE.token_id)
    assert DEVICE.for_rpc()["room_id"] == str(DEVICE.room_id)
    assert ADMIN.for_rpc()["person_id"] is None
