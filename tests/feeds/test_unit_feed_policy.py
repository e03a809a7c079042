"""Who may hold feed URLs: people for themselves, site admins for the rooms
of their own sites, admins for any room; never bots or door tablets."""

from __future__ import annotations

import uuid

import pytest

from gateway.policy import Action, Actor, Role, can

pytestmark = pytest.mark.unit

SITE, OTHER_SITE = uuid.uuid4(), uuid.uuid4()


def actor(role, sites=()):
    return Actor(token_id=uuid.uuid4(), role=role, email="x@mairie.fr", person_id=uuid.uuid4(),
                 site_ids=frozenset(sites))


@pytest.mark.parametrize("role, own", [(Role.AGENT, True), (Role.SITE_ADMIN, True), (Role.ADMIN, True),
                                       (Role.BOT, False), (Role.DEVICE, False)])
def test_own_feeds_are_for_people_only(role, own):
    assert can(actor(role), Action.OWN_FEEDS) is own


def test_room_feeds_belong_to_the_admins_of_the_rooms_site():
    assert can(actor(Role.ADMIN), Action.ROOM_FEEDS, SITE)
    assert can(actor(Role.SITE_ADMIN, [SITE]), Action.ROOM_FEEDS, SITE)
    assert not can(actor(Role.SITE_ADMIN, [SITE]), Action.ROOM_FEEDS, OTHER_SITE)
    for role in (Role.AGENT, Role.BOT, Role.DEVICE):
        assert not can(actor(role, [SITE]), Action.ROOM_FEEDS, SITE)
