"""Directory use cases for other services: export people with their contacts,
and let a person set how to reach them.

``export_people`` pages by id (keyset) and can return only people changed
since a time (``updated_since``; ``updated_at`` also moves when a person's
teams change) or given ids, so a consumer (presence) keeps a full copy with
cheap incremental syncs.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from .adapters import directory
from .adapters.store import BookingStore
from .domain import errors
from .domain.access import Actor
from .domain.model import parse_instant
from .domain.messages import msg

CHANNELS = ("phone", "softphone", "video", "chat", "email")
MAX_IDS = 500


def _uuid(value, field: str) -> str:
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else _invalid(field)
    except ValueError:
        return _invalid(field)


def _invalid(field: str):
    raise errors.Invalid(msg("field_must_be_an_id", field=field), field=field)


def export_people(store: BookingStore, after=None, limit=1000, updated_since=None,
                  person_ids=None) -> dict:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 5000:
        raise errors.Invalid("limit_1_to_5000", field="limit")
    if after is not None:
        after = _uuid(after, "after")
    since: datetime | None = None
    if updated_since is not None:
        since = parse_instant(updated_since, "updated_since")
    if person_ids is not None:
        if not isinstance(person_ids, list) or len(person_ids) > MAX_IDS:
            raise errors.Invalid(msg("person_ids_must_be_a_list", max_ids=MAX_IDS),
                                 field="person_ids")
        person_ids = [_uuid(p, "person_ids") for p in person_ids]
    with store.unit(transaction=False) as unit:
        items = directory.export(unit.conn, after, limit, since, person_ids)
    return {"items": items, "next": items[-1]["id"] if len(items) == limit else None}


def update_contact(store: BookingStore, actor: Actor, contact, person_id=None) -> dict:
    """A person sets their own contact fields (an admin anyone's)."""
    if actor.role not in ("agent", "site_admin", "admin"):
        raise errors.Forbidden("this_kind_of_account_cannot_change")
    target = actor.person_id
    if person_id is not None and person_id != actor.person_id:
        if actor.role != "admin":
            raise errors.Forbidden("only_own_contact")
        target = _uuid(person_id, "person_id")
    if not target:
        raise errors.Invalid("this_account_is_not_linked_to", field="person_id")
    fields = _check_contact(contact)
    with store.unit() as unit:
        if not directory.update_contact(unit.conn, target, fields):
            raise errors.NotFound("no_such_person", field="person_id")
        return directory.export(unit.conn, None, 1, None, [target])[0]


def _check_contact(contact) -> dict:
    if not isinstance(contact, dict):
        raise errors.Invalid("contact_must_be_an_object", field="contact")
    unknown = set(contact) - set(directory.CONTACT_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise errors.Invalid(msg("unknown_field_name", name=name), field=name)
    fields = {}
    for name, value in contact.items():
        if not isinstance(value, str):
            raise errors.Invalid(msg("name_must_be_a_string", name=name), field=name)
        value = value.strip()
        if len(value) > 200:
            raise errors.Invalid(msg("name_is_200_characters_at_most", name=name), field=name)
        if name == "video_url" and value and not value.startswith("https://"):
            raise errors.Invalid("video_url_must_be_an_https", field=name)
        if name == "softphone" and value and not (value.startswith(("sip:", "tel:", "+")) or
                                                  value.replace(" ", "").isdigit() or "@" in value):
            raise errors.Invalid("softphone_must_be_a_sip_or", field=name)
        if name == "preferred_channel" and value not in ("",) + CHANNELS:
            raise errors.Invalid(msg("preferred_channel_must_be_one_of",
                                     values=", ".join(CHANNELS)),
                                 field=name)
        fields[name] = value
    return fields
