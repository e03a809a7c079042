"""Places, rules and people against the real PostgreSQL; every change leaves
its event in the outbox."""

from datetime import datetime, timezone

import psycopg
import pytest

from booking import catalogue
from booking.domain import errors
from booking.domain.access import Actor

pytestmark = pytest.mark.integration

ADMIN = Actor(person_id=None, role="admin")


def now():
    return datetime.now(timezone.utc)


def outbox_events(db_url, entity_id):
    with psycopg.connect(db_url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT payload->>'change' FROM outbox WHERE payload->>'id' = %s ORDER BY id", (entity_id,))]


def test_admin_builds_a_place_tree_and_each_change_is_an_event(store, booking_db_url):
    site = catalogue.create_entity(store, now(), ADMIN, "site", {"code": "mdd", "name": "Maison des solidarités",
                                                                 "timezone": "Europe/Paris"})
    building = catalogue.create_entity(store, now(), ADMIN, "building", {"site_id": site["id"], "code": "A", "name": "A"})
    floor = catalogue.create_entity(store, now(), ADMIN, "floor", {"building_id": building["id"], "code": "0", "name": "RDC"})
    zone = catalogue.create_entity(store, now(), ADMIN, "zone", {"floor_id": floor["id"], "code": "ccas", "name": "CCAS"})
    desk = catalogue.create_entity(store, now(), ADMIN, "resource", {
        "zone_id": zone["id"], "kind": "desk", "code": "CCAS-01", "name": "CCAS 01", "attributes": {"screens": 2}})
    assert desk["site_id"] == site["id"] and desk["floor_id"] == floor["id"]
    renamed = catalogue.update_entity(store, now(), ADMIN, "resource", desk["id"], {"name": "CCAS 1"})
    assert renamed["name"] == "CCAS 1"
    with pytest.raises(errors.NotEmpty):
        catalogue.delete_entity(store, now(), ADMIN, "zone", zone["id"])
    catalogue.delete_entity(store, now(), ADMIN, "resource", desk["id"])
    assert catalogue.list_resources(store, floor_id=floor["id"]) == []
    assert outbox_events(booking_db_url, desk["id"]) == ["created", "updated", "deleted"]
    tree = catalogue.site_tree(store, site["id"])
    assert tree["buildings"][0]["floors"][0]["zones"][0]["code"] == "ccas"


def test_site_admins_only_touch_their_sites(store, place):
    mine = Actor(person_id=None, role="site_admin", site_ids=frozenset({place.site_id}))
    other = Actor(person_id=None, role="site_admin", site_ids=frozenset({"00000000-0000-0000-0000-000000000001"}))
    catalogue.update_entity(store, now(), mine, "resource", place.desks[0], {"name": "Renommé"})
    with pytest.raises(errors.Forbidden):
        catalogue.update_entity(store, now(), other, "resource", place.desks[0], {"name": "Volé"})
    with pytest.raises(errors.Forbidden):
        catalogue.create_entity(store, now(), mine, "site", {"code": "x", "name": "x"})
    with pytest.raises(errors.Forbidden):
        catalogue.update_entity(store, now(), Actor(person_id=place.people[0], role="agent"),
                                "resource", place.desks[0], {"name": "Non"})


def test_bad_place_data_names_the_field(store, place):
    for data, field in [({"code": "x", "name": "x", "timezone": "Mars/Olympus"}, "timezone"),
                        ({"code": "x", "name": "x", "opening_time": "25:00"}, "opening_time"),
                        ({"code": "x", "name": "x", "closed_weekdays": [8]}, "closed_weekdays"),
                        ({"code": "x", "name": "x", "colour": "red"}, "colour"),
                        ({"name": "x"}, "code")]:
        with pytest.raises(errors.Invalid) as caught:
            catalogue.create_entity(store, now(), ADMIN, "site", data)
        assert caught.value.details["field"] == field
    with pytest.raises(errors.Invalid) as caught:
        catalogue.create_entity(store, now(), ADMIN, "resource", {
            "zone_id": place.zone_id, "kind": "desk", "code": "D000", "name": "Doublon"})
    assert caught.value.details["field"] == "code"


def test_rules_per_site_and_kind(store, place):
    manager = Actor(person_id=None, role="site_admin", site_ids=frozenset({place.site_id}))
    updated = catalogue.set_rules(store, manager, place.site_id, "desk", {"max_days_ahead": 14})
    assert updated["max_days_ahead"] == 14
    assert catalogue.get_rules(store, place.site_id)["desk"]["max_days_ahead"] == 14
    with pytest.raises(errors.Invalid):
        catalogue.set_rules(store, manager, place.site_id, "desk", {"max_days_ahead": 99999})


def test_people_search_ignores_accents_case_and_hyphens(store, booking_db_url, place):
    with psycopg.connect(booking_db_url) as conn:
        org = conn.execute("SELECT organisation_id FROM person WHERE id = %s", (place.people[0],)).fetchone()[0]
        conn.execute(
            "INSERT INTO person (organisation_id, email, given_name, family_name, display_name, department) "
            "VALUES (%s, 'mh.dupont@mairie-test.fr', 'Marie-Hélène', 'Dupont', 'Marie-Hélène Dupont', 'CCAS')",
            (org,))
    for query in ("helene", "HÉLÈNE dupont", "marie-helene", "dupont ccas"):
        assert [p["email"] for p in catalogue.search_people(store, query)] == ["mh.dupont@mairie-test.fr"], query
    assert catalogue.search_people(store, "zzzz-nobody") == []
