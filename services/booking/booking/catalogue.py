"""Catalogue use cases: places, rules, people and imports.

Every change to a place writes a ``resource.changed`` event in its own
transaction, so the gateway's cached catalogue (and any other reader) learns
about it without polling.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from .adapters import places
from .adapters.store import BookingStore, plain
from .domain import errors, events
from .domain.access import Actor, require_manager
from .domain.model import RESOURCE_KINDS
from .domain.places import PARENT, validate
from .domain.messages import msg


def list_sites(store: BookingStore) -> list[dict]:
    with store.unit() as unit:
        return [plain(s) for s in unit.sites()]


def site_tree(store: BookingStore, site_id: str) -> dict:
    with store.unit() as unit:
        return places.site_tree(unit, str(unit.site_row(site_id)["id"]))


def list_resources(store: BookingStore, site_id=None, floor_id=None, zone_id=None, kind=None):
    if kind is not None and kind not in RESOURCE_KINDS:
        raise errors.Invalid("kind_must_be_desk_room_or", field="kind")
    with store.unit() as unit:
        return unit.resources(site_id, floor_id, zone_id, kind)  # already JSON-ready


def get_resource(store: BookingStore, resource_id: str) -> dict:
    with store.unit() as unit:
        return plain(unit.resource_row(resource_id))


def _changed(unit, now, entity, change, entity_id, data):
    unit.enqueue(events.resource_changed(now, entity, change, entity_id, data))


def create_entity(store: BookingStore, now: datetime, actor: Actor, entity: str, data) -> dict:
    cleaned = validate(entity, data)
    with store.unit() as unit:
        parent = PARENT.get(entity)
        require_manager(actor, places.site_of(unit, _parent_entity(entity), cleaned[parent]) if parent else None)
        created = places.insert(unit, entity, cleaned)
        _changed(unit, now, entity, "created", created["id"], created)
        return created


def update_entity(store: BookingStore, now: datetime, actor: Actor, entity: str, entity_id: str, data):
    cleaned = validate(entity, data, partial=True)
    entity_id = _id(entity_id, entity)
    with store.unit() as unit:
        require_manager(actor, places.site_of(unit, entity, entity_id))
        parent = PARENT.get(entity)
        if parent and parent in cleaned:
            require_manager(actor, places.site_of(unit, _parent_entity(entity), cleaned[parent]))
        if entity == "site" and actor.role != "admin" and set(cleaned) & {"code"}:
            raise errors.Forbidden("only_an_administrator_may_change_a")
        updated = places.update(unit, entity, entity_id, cleaned)
        _changed(unit, now, entity, "updated", entity_id, updated)
        return updated


def delete_entity(store: BookingStore, now: datetime, actor: Actor, entity: str, entity_id: str) -> dict:
    if entity not in PARENT and entity != "site":
        raise errors.NotFound(msg("unknown_kind_of_place_entity", entity=entity), field="entity")
    entity_id = _id(entity_id, entity)
    with store.unit() as unit:
        require_manager(actor, places.site_of(unit, entity, entity_id) if entity != "site" else None)
        places.delete(unit, entity, entity_id)
        _changed(unit, now, entity, "deleted", entity_id, None)
        return {"id": entity_id, "deleted": True}


def _parent_entity(entity: str) -> str:
    return PARENT[entity][: -len("_id")]


def _id(value, entity) -> str:
    import uuid

    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise errors.NotFound(msg("no_such_entity", entity=entity), field=f"{entity}_id") from None


def get_rules(store: BookingStore, site_id: str) -> dict:
    with store.unit() as unit:
        sid = str(unit.site_row(site_id)["id"])
        return {kind: unit.rules(sid, kind).to_dict() for kind in RESOURCE_KINDS}


def set_rules(store: BookingStore, actor: Actor, site_id: str, resource_kind: str, rules) -> dict:
    if resource_kind not in RESOURCE_KINDS:
        raise errors.Invalid("resource_kind_must_be_desk_room", field="resource_kind")
    if not isinstance(rules, dict):
        raise errors.Invalid("rules_must_be_an_object", field="rules")
    with store.unit() as unit:
        sid = str(unit.site_row(site_id)["id"])
        require_manager(actor, sid)
        updated = unit.rules(sid, resource_kind).updated(rules)
        unit.save_rules(sid, resource_kind, updated)
        return updated.to_dict()


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def search_people(store: BookingStore, q: str, limit: int = 20) -> list[dict]:
    if not isinstance(q, str) or not q.strip() or len(q) > 100:
        raise errors.Invalid("q_must_be_a_text_of", field="q")
    if not isinstance(limit, int) or not 1 <= limit <= 50:
        raise errors.Invalid("limit_1_to_50", field="limit")
    words = [w for w in _fold(q).replace("-", " ").split() if w][:5]
    with store.unit() as unit:
        return unit.search_people(words, limit)


def get_person(store: BookingStore, person_id: str) -> dict:
    with store.unit() as unit:
        return unit.person(person_id)


def get_person_by_email(store: BookingStore, email: str) -> dict:
    if not isinstance(email, str) or "@" not in email:
        raise errors.Invalid("email_is_not_an_email_address", field="email")
    with store.unit() as unit:
        return unit.person_by_email(email)


def import_csv(store: BookingStore, actor: Actor, what: str, csv_text: str) -> dict:
    """Import resources or people from CSV; a bad file imports nothing."""
    from .adapters import importer

    require_manager(actor, None)
    if not isinstance(csv_text, str):
        raise errors.Invalid("the_file_must_be_text", field="file")
    apply = {"resources": importer.import_resources, "people": importer.import_people}[what]
    with store.unit() as unit:
        return apply(unit.conn, csv_text)
