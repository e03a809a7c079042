"""The gateway applies presence's privacy rule to the read model itself:
both implementations must give the same answer for every case."""

import itertools

import pytest

from gateway.presence_read import may_see as gateway_may_see
from presence.domain.privacy import Viewer, may_see as presence_may_see

pytestmark = pytest.mark.unit

VIEWERS = [("s", "agent"), ("a", "agent"), ("a", "admin"), ("a", "bot"), (None, "bot"), ("d", "device"),
           (None, "device"), ("a", "site_admin")]
TEAMS = [frozenset(), frozenset({"t1"}), frozenset({"t2"}), frozenset({"t1", "t2"})]


@pytest.mark.parametrize("visibility", ["everyone", "teams", "nobody", "bogus"])
def test_same_rule_everywhere(visibility):
    for (viewer_id, role), viewer_teams, subject_teams in itertools.product(VIEWERS, TEAMS, TEAMS):
        expected = presence_may_see(Viewer(viewer_id, role, viewer_teams), "s", visibility, subject_teams)
        got = gateway_may_see(viewer_id, role, viewer_teams, "s", visibility, subject_teams)
        assert got is expected, (viewer_id, role, viewer_teams, subject_teams, visibility)
