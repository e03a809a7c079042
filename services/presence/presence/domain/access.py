"""The caller, as the gateway authenticated it, and whose data they may touch."""

from __future__ import annotations

from dataclasses import dataclass

from . import errors
from .model import parse_uuid

ROLES = ("agent", "site_admin", "admin", "device", "bot")


@dataclass(frozen=True)
class Actor:
    person_id: str | None
    role: str
    site_ids: frozenset[str] = frozenset()

    @classmethod
    def from_wire(cls, data) -> "Actor":
        if not isinstance(data, dict) or data.get("role") not in ROLES:
            raise errors.Forbidden("unknown_caller")
        person_id = data.get("person_id")
        if person_id is not None:
            person_id = parse_uuid(person_id, "actor.person_id")
        return cls(person_id=person_id, role=data["role"],
                   site_ids=frozenset(data.get("site_ids") or ()))


def target(actor: Actor, person_id=None, write: bool = False) -> str:
    """The person whose plan, status or settings are read or changed:
    oneself, or anyone for an admin. Bots and devices change nothing."""
    if write and actor.role not in ("agent", "site_admin", "admin"):
        raise errors.Forbidden("only_yourself")
    if person_id is not None:
        wanted = parse_uuid(person_id, "person_id")
        if wanted != actor.person_id:
            if actor.role != "admin":
                raise errors.Forbidden("only_yourself")
            return wanted
    if actor.person_id is None:
        raise errors.Forbidden("no_person")
    return actor.person_id
