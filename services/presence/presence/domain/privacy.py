"""Who may see a person's presence.

Each person chooses a visibility:

* ``everyone``: every signed-in person (agent, site admin, admin) and bots
  answering someone;
* ``teams``: only people who share at least one team with them;
* ``nobody``: no one but themselves.

The person always sees their own presence. Roles give no extra sight: an
admin sees no more than the person allows. Devices (door tablets) see no
one's presence. Whoever may not see gets ``not_available`` and nothing
else: not why, not since when, not where. This rule is also applied by the
gateway to the read model (``gateway/gateway/presence_read.py``); a test
checks both give the same matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VISIBILITIES = ("everyone", "teams", "nobody")
DEFAULT_VISIBILITY = "everyone"


@dataclass(frozen=True)
class Viewer:
    person_id: str | None
    role: str
    team_ids: frozenset[str] = field(default_factory=frozenset)


def may_see(viewer: Viewer, subject_id: str, visibility: str, subject_team_ids) -> bool:
    if viewer.person_id is not None and viewer.person_id == subject_id:
        return True
    if viewer.role == "device":
        return False
    if visibility == "everyone":
        return True
    if visibility == "teams":
        return viewer.person_id is not None and bool(viewer.team_ids & frozenset(subject_team_ids))
    return False


def hidden(reach: list[dict]) -> dict:
    """What someone who may not see gets: not available, and the directory's contacts."""
    return {"status": "not_available", "signal": None, "since": None, "until": None,
            "label": None, "place": None, "plan": None, "reach": reach}
