"""What is free: the status of each resource over an interval.

Statuses are words, not colours, so every front (map, list, bot) can say them:
``free``, ``booked``, ``mine``, ``restricted`` (reserved for other teams) and
``closed`` (the site is closed that day).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .model import Resource


@dataclass(frozen=True)
class Occupation:
    booking_id: str
    resource_id: str
    person_id: str


def matches(resource: Resource, attributes: dict, min_capacity: int | None) -> bool:
    """Whether a resource has every wanted attribute (``True`` or at least a number)."""
    if min_capacity is not None and resource.capacity < min_capacity:
        return False
    for name, wanted in attributes.items():
        have = resource.attributes.get(name)
        if have in (None, False, 0):
            return False
        if isinstance(wanted, int) and not isinstance(wanted, bool):
            if not isinstance(have, (int, float)) or isinstance(have, bool) or have < wanted:
                return False
    return True


def statuses(
    resources: list[Resource],
    occupations: list[Occupation],
    person_id: str | None,
    person_team_ids: frozenset[str] | set[str],
    closed_reason: str | None,
) -> list[dict]:
    by_resource = {o.resource_id: o for o in occupations}
    rows = []
    for resource in resources:
        row: dict = {"status": "free"}
        occupation = by_resource.get(resource.id)
        if closed_reason:
            row = {"status": "closed", "reason": closed_reason}
        elif occupation:
            row = {
                # a walk-in (no owner) is nobody's, even for a caller without a person
                "status": "mine" if person_id is not None and occupation.person_id == person_id
                else "booked",
                "booking_id": occupation.booking_id,
            }
        elif not resource.open_to(person_team_ids):
            row = {"status": "restricted"}
        rows.append((resource, row))
    return rows


def rank_near_team(
    rows: list[tuple[Resource, dict]],
    team_zone_ids: set[str],
    anchors: list[tuple[float, float]],
) -> list[tuple[Resource, dict]]:
    """Free desks nearest the team first: in the team's zone, then by distance
    to where teammates sit that day, then the rest in their usual order."""

    def distance(resource: Resource) -> float:
        if resource.x is None or resource.y is None or not anchors:
            return math.inf
        return min(math.hypot(resource.x - ax, resource.y - ay) for ax, ay in anchors)

    def key(item):
        resource, row = item
        return (
            row["status"] != "free",
            resource.zone_id not in team_zone_ids,
            distance(resource),
        )

    return sorted(rows, key=key)
