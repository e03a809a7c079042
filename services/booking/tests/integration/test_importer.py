"""CSV imports applied to a real PostgreSQL: all or nothing, upserts, outbox events.

Each test gets a database of its own (the session database is shared with
tests that would change the counts).
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from booking.adapters.importer import import_people, import_resources
from booking.adapters.migrate import upgrade
from booking.demo import demo_csvs
from booking.domain.errors import ImportRejected
from tests.support.servers import create_database, drop_database

pytestmark = pytest.mark.integration

RESOURCE_HEADER = (
    "site_code,site_name,building_code,building_name,floor_code,floor_name,floor_level,"
    "zone_code,zone_name,zone_team_code,kind,code,name,capacity,attributes,"
    "restricted_team_codes,x,y"
)
TREE = "hdv,Hôtel de Ville,ca,Centre administratif,e1,1er étage,1,rh,Espace RH"
PEOPLE_HEADER = "email,given_name,family_name,department,phone_extension,language,team_codes,team_names"
PEOPLE = "\n".join(
    [
        PEOPLE_HEADER,
        "helene.saint-martin@mairie-exemple.fr,Hélène,Saint-Martin,RH,1401,fr,rh|dg,"
        "Ressources humaines|Direction générale",
        "nicolas.martin@mairie-exemple.fr,Nicolas,Martin,Finances,1501,fr,fin,Finances",
        "nicolas.martin2@mairie-exemple.fr,Nicolas,Martin,Services techniques,,fr,tech,"
        "Services techniques",
    ]
) + "\n"

TABLES = ("organisation", "site", "building", "floor", "zone", "resource", "person", "team",
          "team_member", "outbox")


@pytest.fixture
def db_url(run_id):
    name = f"escale_test_{run_id}_imp_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    upgrade(url)
    yield url
    drop_database(name)


def counts(url) -> dict:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def run(url, importer, text):
    with psycopg.connect(url) as conn:
        result = importer(conn, text)
        conn.commit()
        return result


def rejected(url, importer, text) -> list[dict]:
    with psycopg.connect(url) as conn:
        with pytest.raises(ImportRejected) as caught:
            importer(conn, text)
        conn.commit()  # even a careless caller that commits keeps nothing
    return caught.value.details["errors"]


def resources(*lines):
    return "\n".join([RESOURCE_HEADER, *lines]) + "\n"


def test_people_then_resources_build_the_tree(db_url):
    assert run(db_url, import_people, PEOPLE) == {"created": 3 + 4, "updated": 0}
    result = run(
        db_url,
        import_resources,
        resources(
            f'{TREE},rh,desk,RH-01,Poste RH 01,,"screens=2;docking_station",rh,60,50',
            f"{TREE},rh,room,SALLE-LOIRE,Salle Loire,12,video_conferencing,,150,490",
        ),
    )
    # site, building, floor, zone and two resources
    assert result == {"created": 6, "updated": 0}
    with psycopg.connect(db_url) as conn:
        desk = conn.execute(
            "SELECT r.kind, r.capacity, r.attributes, r.x, r.y, "
            "       (SELECT array_agg(t.code) FROM team t WHERE t.id = ANY(r.restricted_team_ids)),"
            "       z.code, zt.code, f.level, s.timezone, o.code "
            "FROM resource r JOIN zone z ON z.id = r.zone_id JOIN team zt ON zt.id = z.team_id "
            "JOIN floor f ON f.id = r.floor_id JOIN site s ON s.id = r.site_id "
            "JOIN organisation o ON o.id = s.organisation_id WHERE r.code = 'RH-01'"
        ).fetchone()
        assert desk == (
            "desk", 1, {"screens": 2, "docking_station": True}, 60.0, 50.0, ["rh"],
            "rh", "rh", 1, "Europe/Paris", "default",
        )
        members = conn.execute(
            "SELECT t.code FROM team_member m JOIN team t ON t.id = m.team_id "
            "JOIN person p ON p.id = m.person_id WHERE p.email = %s ORDER BY t.code",
            ("helene.saint-martin@mairie-exemple.fr",),
        ).fetchall()
        assert members == [("dg",), ("rh",)]


def test_outbox_has_one_resource_changed_event_per_created_entity(db_url):
    run(db_url, import_people, PEOPLE)
    run(db_url, import_resources, resources(f"{TREE},rh,desk,RH-01,Poste RH 01,,,,1,2"))
    with psycopg.connect(db_url) as conn:
        events = conn.execute(
            "SELECT event_type, payload FROM outbox ORDER BY id"
        ).fetchall()
        resource_id = conn.execute("SELECT id FROM resource WHERE code = 'RH-01'").fetchone()[0]
    assert [(t, p["entity"], p["change"]) for t, p in events] == [
        ("resource.changed", "site", "created"),
        ("resource.changed", "building", "created"),
        ("resource.changed", "floor", "created"),
        ("resource.changed", "zone", "created"),
        ("resource.changed", "resource", "created"),
    ]
    payload = events[-1][1]
    assert payload["v"] == 1 and payload["id"] == str(resource_id)
    assert payload["data"]["code"] == "RH-01" and payload["data"]["kind"] == "desk"
    assert payload["data"]["x"] == 1.0 and "event_id" in payload and "occurred_at" in payload
    assert events[0][1]["data"]["name"] == "Hôtel de Ville"


def test_reimport_updates_in_place_and_only_what_changed(db_url):
    run(db_url, import_people, PEOPLE)
    first = resources(
        f"{TREE},rh,desk,RH-01,Poste RH 01,,screens=1,,0.1,0.2",
        f"{TREE},rh,desk,RH-02,Poste RH 02,,,,3,4",
    )
    run(db_url, import_resources, first)
    before = counts(db_url)
    # The same file again: nothing to do, no event (0.1 survives float4 storage).
    assert run(db_url, import_resources, first) == {"created": 0, "updated": 0}
    assert counts(db_url) == before
    second = resources(
        f"{TREE},rh,desk,RH-01,Poste RH 01 (confidentiel),,screens=2,rh,0.1,0.2",
        f"{TREE},rh,desk,RH-02,Poste RH 02,,,,3,4",
    )
    assert run(db_url, import_resources, second) == {"created": 0, "updated": 1}
    after = counts(db_url)
    assert after["resource"] == 2 and after["outbox"] == before["outbox"] + 1
    with psycopg.connect(db_url) as conn:
        name, attributes, restricted, updated, created = conn.execute(
            "SELECT r.name, r.attributes, cardinality(r.restricted_team_ids), r.updated_at,"
            " s.updated_at FROM resource r JOIN site s ON s.id = r.site_id WHERE r.code = 'RH-01'"
        ).fetchone()
        change = conn.execute(
            "SELECT payload->>'change' FROM outbox ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
    assert (name, attributes, restricted, change) == (
        "Poste RH 01 (confidentiel)", {"screens": 2}, 1, "updated"
    )
    assert updated > created  # the resource's updated_at moved, the site's did not

    renamed = PEOPLE.replace("Hélène,Saint-Martin,RH,1401,fr,rh|dg", "Hélène,Saint-Martin,RH,1402,en,rh")
    renamed = renamed.replace("Ressources humaines|Direction générale", "Ressources humaines")
    assert run(db_url, import_people, renamed) == {"created": 0, "updated": 1}
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM person").fetchone()[0] == 3
        assert conn.execute(
            "SELECT phone_extension, language FROM person WHERE email LIKE 'helene%'"
        ).fetchone() == ("1402", "en")
        assert conn.execute(
            "SELECT count(*) FROM team_member m JOIN person p ON p.id = m.person_id "
            "WHERE p.email LIKE 'helene%'"
        ).fetchone()[0] == 1


def test_people_are_matched_by_email_whatever_the_case(db_url):
    run(db_url, import_people, PEOPLE)
    shouting = PEOPLE.replace("nicolas.martin@", "Nicolas.MARTIN@")
    assert run(db_url, import_people, shouting) == {"created": 0, "updated": 0}
    assert counts(db_url)["person"] == 3


def test_unknown_team_codes_reject_the_file_and_import_nothing(db_url):
    run(db_url, import_people, PEOPLE)
    before = counts(db_url)
    zone_team = "hdv,Hôtel de Ville,ca,Centre administratif,e1,1er étage,1,paie,Espace paie"
    errors = rejected(
        db_url,
        import_resources,
        resources(
            f"{TREE},rh,desk,RH-01,Poste RH 01,,,rh,1,1",
            f"{TREE},rh,desk,RH-02,Poste RH 02,,,rh|cabinet,1,1",
            f"{zone_team},paie,desk,PAIE-01,Poste paie,,,,1,1",
        ),
    )
    assert [(e["line"], e["column"]) for e in errors] == [
        (3, "restricted_team_codes"),
        (4, "zone_team_code"),
    ]
    assert "cabinet" in errors[0]["message"]
    assert counts(db_url) == before


def test_a_resource_cannot_change_kind(db_url):
    run(db_url, import_resources, resources(f"{TREE},,desk,X-01,Poste,,,,,"))
    before = counts(db_url)
    errors = rejected(
        db_url,
        import_resources,
        resources(f"{TREE},,desk,X-02,Nouveau,,,,,", f"{TREE},,room,X-01,Salle,4,,,,"),
    )
    assert [(e["line"], e["column"]) for e in errors] == [(3, "kind")]
    assert counts(db_url) == before


def test_a_file_with_a_bad_line_imports_nothing(db_url):
    before = counts(db_url)
    errors = rejected(
        db_url,
        import_resources,
        resources(f"{TREE},,desk,X-01,Poste,,,,,", f"{TREE},,desk,X-02,Poste,-3,,,,"),
    )
    assert [(e["line"], e["column"]) for e in errors] == [(3, "capacity")]
    assert counts(db_url) == before  # not even the default organisation
    errors = rejected(db_url, import_people, PEOPLE + "bad,A,B,,,,,\n")
    assert [(e["line"], e["column"]) for e in errors] == [(5, "email")]
    assert counts(db_url) == before


def test_an_email_of_another_organisation_is_refused(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute("INSERT INTO organisation (code, name) VALUES ('other', 'Other')")
        conn.commit()
        import_people(conn, PEOPLE, organisation_code="other")
        conn.commit()
    before = counts(db_url)
    errors = rejected(db_url, import_people, PEOPLE)
    assert [(e["line"], e["column"]) for e in errors] == [(2, "email"), (3, "email"), (4, "email")]
    assert counts(db_url) == before


def test_works_on_an_autocommit_connection_too(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert import_people(conn, PEOPLE)["created"] == 7
        with pytest.raises(ImportRejected):
            import_resources(conn, resources(f"{TREE},,desk,X-01,Poste,,,nope,,"))
    assert counts(db_url)["site"] == 0


def test_the_demo_seed_and_its_idempotence(db_url):
    resources_text, people_text = demo_csvs()
    people_result = run(db_url, import_people, people_text)
    resources_result = run(db_url, import_resources, resources_text)
    assert people_result["created"] >= 400 and resources_result["created"] >= 130
    with psycopg.connect(db_url) as conn:
        kinds = dict(conn.execute("SELECT kind, count(*) FROM resource GROUP BY kind").fetchall())
        floors = conn.execute("SELECT count(*) FROM floor").fetchone()[0]
        people = conn.execute("SELECT count(*) FROM person").fetchone()[0]
        teams = conn.execute("SELECT count(*) FROM team").fetchone()[0]
        zones_without_team = conn.execute(
            "SELECT count(*) FROM resource r JOIN zone z ON z.id = r.zone_id "
            "WHERE r.kind = 'desk' AND z.team_id IS NULL"
        ).fetchone()[0]
        restricted = conn.execute(
            "SELECT count(*) FROM resource WHERE cardinality(restricted_team_ids) > 0"
        ).fetchone()[0]
        agent = conn.execute(
            "SELECT p.display_name, array_agg(t.code) FROM person p "
            "JOIN team_member m ON m.person_id = p.id JOIN team t ON t.id = m.team_id "
            "WHERE p.email = 'agent.demo@mairie-exemple.fr' GROUP BY p.display_name"
        ).fetchone()
        timezone = conn.execute("SELECT timezone FROM site WHERE code = 'hdv'").fetchone()[0]
    assert 110 <= kinds["desk"] <= 130 and 10 <= kinds["room"] <= 14 and kinds["equipment"] >= 3
    assert floors == 3 and 380 <= people <= 420 and teams >= 8
    assert zones_without_team == 0 and restricted >= 2
    assert agent == ("Camille Demo", ["dsi"]) and timezone == "Europe/Paris"
    before = counts(db_url)
    assert run(db_url, import_people, people_text) == {"created": 0, "updated": 0}
    assert run(db_url, import_resources, resources_text) == {"created": 0, "updated": 0}
    assert counts(db_url) == before
