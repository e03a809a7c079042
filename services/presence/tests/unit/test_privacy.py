"""Who sees a person's presence: the matrix of the issue, and then some."""

import pytest

from presence.domain.privacy import Viewer, hidden, may_see

pytestmark = pytest.mark.unit

SUBJECT = "s"
TEAM, OTHER_TEAM = "t1", "t2"

SAME_TEAM = Viewer("a", "agent", frozenset({TEAM}))
OTHER = Viewer("b", "agent", frozenset({OTHER_TEAM}))
ADMIN = Viewer("c", "admin", frozenset())             # an admin outside the team
ADMIN_IN_TEAM = Viewer("d", "admin", frozenset({TEAM}))

# asker x visibility -> sees?
MATRIX = {
    ("same team", "everyone"): True, ("same team", "teams"): True, ("same team", "nobody"): False,
    ("other team", "everyone"): True, ("other team", "teams"): False, ("other team", "nobody"): False,
    ("admin", "everyone"): True, ("admin", "teams"): False, ("admin", "nobody"): False,
}
ASKERS = {"same team": SAME_TEAM, "other team": OTHER, "admin": ADMIN}


@pytest.mark.parametrize("asker,visibility", sorted(MATRIX))
def test_matrix(asker, visibility):
    assert may_see(ASKERS[asker], SUBJECT, visibility, [TEAM]) is MATRIX[(asker, visibility)]


def test_an_admin_sees_no_more_than_a_colleague_would():
    assert may_see(ADMIN_IN_TEAM, SUBJECT, "teams", [TEAM])
    assert not may_see(ADMIN_IN_TEAM, SUBJECT, "nobody", [TEAM])


@pytest.mark.parametrize("visibility", ["everyone", "teams", "nobody"])
def test_a_person_always_sees_themselves(visibility):
    assert may_see(Viewer(SUBJECT, "agent"), SUBJECT, visibility, [])


def test_devices_see_nobody_and_anonymous_bots_only_public_presence():
    assert not may_see(Viewer(None, "device"), SUBJECT, "everyone", [TEAM])
    assert may_see(Viewer(None, "bot"), SUBJECT, "everyone", [TEAM])
    assert not may_see(Viewer(None, "bot"), SUBJECT, "teams", [TEAM])
    assert may_see(Viewer("a", "bot", frozenset({TEAM})), SUBJECT, "teams", [TEAM])


def test_hidden_says_nothing_but_not_available():
    answer = hidden([{"channel": "email"}])
    assert answer["status"] == "not_available"
    assert all(answer[k] is None for k in ("signal", "since", "until", "label", "place", "plan"))
