"""CSV parsing and validation of the resources and people imports (no I/O)."""

from __future__ import annotations

import pytest

from booking.demo import demo_csvs
from booking.domain.errors import ImportRejected
from booking.domain.imports import (
    RESOURCE_COLUMNS,
    decode,
    parse_attributes,
    parse_people,
    parse_resources,
)

pytestmark = pytest.mark.unit

RESOURCE_HEADER = (
    "site_code,site_name,building_code,building_name,floor_code,floor_name,floor_level,"
    "zone_code,zone_name,zone_team_code,kind,code,name,capacity,attributes,"
    "restricted_team_codes,x,y"
)
TREE = "hdv,Hôtel de Ville,ca,Centre administratif,e1,1er étage,1,rh,Espace RH,rh"


def resources(*lines: str, header: str = RESOURCE_HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def rejected(call, text) -> list[dict]:
    with pytest.raises(ImportRejected) as caught:
        call(text)
    assert caught.value.code == "import_rejected"
    return caught.value.details["errors"]


def pairs(errors: list[dict]) -> list[tuple[int, str]]:
    return [(e["line"], e["column"]) for e in errors]


# -- resources ----------------------------------------------------------------


def test_a_valid_resources_file_gives_typed_rows():
    rows = parse_resources(
        resources(
            f'{TREE},desk,RH-01,Poste RH 01,,"screens=2;docking_station;standing",rh|dg,60,50',
            f"{TREE},room,SALLE-LOIRE,Salle Loire,12,video_conferencing,,150.5,490",
            f"{TREE},equipment,VP-1,Vidéoprojecteur,,,,,",
        )
    )
    desk, room, projector = rows
    assert desk.line == 2 and desk.kind == "desk" and desk.capacity == 1
    assert desk.attributes == {"screens": 2, "docking_station": True, "standing": True}
    assert desk.restricted_team_codes == ("rh", "dg")
    assert (desk.x, desk.y) == (60.0, 50.0)
    assert desk.floor_level == 1 and desk.zone_team_code == "rh"
    assert room.capacity == 12 and room.attributes == {"video_conferencing": True}
    assert room.x == 150.5
    assert projector.x is None and projector.y is None and projector.attributes == {}


def test_semicolon_delimiter_and_byte_order_mark_are_accepted():
    header = RESOURCE_HEADER.replace(",", ";")
    line = (
        "hdv;Hôtel de Ville;ca;Centre administratif;e1;1er étage;1;rh;Espace RH;;desk;RH-01;"
        'Poste RH 01;1;"screens=2;accessible";;12,5;40'
    )
    text = "\ufeff" + header + "\r\n" + line + "\r\n"
    (row,) = parse_resources(text)
    assert row.site_code == "hdv" and row.site_name == "Hôtel de Ville"
    assert row.attributes == {"screens": 2, "accessible": True}
    assert row.x == 12.5  # French decimal comma
    (row,) = parse_resources(text.encode("utf-8"))  # bytes with the BOM, too
    assert row.code == "RH-01"


def test_column_names_are_case_insensitive_and_in_any_order():
    header = "CODE,Name,Kind,Site_Code,site_name,building_code,building_name,floor_code," \
        "floor_name,floor_level,zone_code,zone_name"
    (row,) = parse_resources(header + "\nD1,Poste 1,desk,hdv,HdV,ca,CA,e1,E1,1,z,Z\n")
    assert (row.code, row.kind, row.site_code) == ("D1", "desk", "hdv")


def test_missing_required_columns_are_named_on_line_1():
    header = RESOURCE_HEADER.replace("floor_level,", "").replace(",kind", "")
    errors = rejected(parse_resources, header + "\n")
    assert pairs(errors) == [(1, "floor_level"), (1, "kind")]
    assert "manque" in errors[0]["message"]


def test_unknown_and_repeated_columns_are_refused():
    errors = rejected(parse_resources, resources(header=RESOURCE_HEADER + ",capactiy,code"))
    assert pairs(errors) == [(1, "capactiy"), (1, "code")]


def test_every_bad_cell_is_reported_with_its_line_and_column():
    text = resources(
        f"{TREE},desk,RH-01,Poste 1,,,,1,1",
        f"{TREE},sofa,RH-02,Poste 2,,,,1,1",
        f"{TREE},desk,RH-03,Poste 3,zero,,,1,1",
        f"{TREE},room,RH-04,Salle,0,,,1,1",
        f"{TREE},desk,RH-05,Poste 5,,,,abc,1",
        f"{TREE},desk,RH-06,Poste 6,,,,1,",
        f"{TREE},desk,RH-07,Poste 7,,screens=two,,1,1",
        f"{TREE},desk,RH 08,Poste 8,,,,1,1",
        f"{TREE},desk,RH-01,Doublon,,,,1,1",
        f"{TREE},desk,RH-10,,,,,1,1",
        f"{TREE},desk,RH-11,Poste 11,,,rh||dg,1,1",
        "hdv,Hôtel de Ville,ca,Centre administratif,e1,1er étage,un,rh,Espace RH,,desk,RH-12,P,,,,,",
        f"{TREE},desk,RH-13,Poste 13,,,,,1",
    )
    errors = rejected(parse_resources, text)
    assert pairs(errors) == [
        (3, "kind"),
        (4, "capacity"),
        (5, "capacity"),
        (6, "x"),
        (7, "y"),
        (8, "attributes"),
        (9, "code"),
        (10, "code"),
        (11, "name"),
        (12, "restricted_team_codes"),
        (13, "floor_level"),
        (14, "x"),
    ]
    by_line = {e["line"]: e["message"] for e in errors}
    assert "sofa" in by_line[3]
    assert "au moins 1" in by_line[5]
    assert "ligne 2" in by_line[10]  # the duplicate names the first use


def test_the_same_zone_described_two_ways_is_refused():
    other_name = TREE.replace("Espace RH", "Espace Paie")
    errors = rejected(
        parse_resources,
        resources(f"{TREE},desk,RH-01,P1,,,,,", f"{other_name},desk,RH-02,P2,,,,,"),
    )
    assert pairs(errors) == [(3, "zone_name")]
    assert "ligne 2" in errors[0]["message"]


def test_the_same_code_in_two_sites_is_fine():
    other_site = TREE.replace("hdv,Hôtel de Ville", "annexe,Annexe")
    rows = parse_resources(resources(f"{TREE},desk,D-01,P1,,,,,", f"{other_site},desk,D-01,P1,,,,,"))
    assert [r.site_code for r in rows] == ["hdv", "annexe"]


def test_blank_rows_are_skipped_but_keep_line_numbers():
    text = resources(f"{TREE},desk,RH-01,P1,,,,,", ",,,,,,,,,,,,,,,,,", "", f"{TREE},sofa,RH-02,P2,,,,,")
    assert pairs(rejected(parse_resources, text)) == [(5, "kind")]


def test_a_line_with_too_many_cells_is_refused():
    assert pairs(rejected(parse_resources, resources(f"{TREE},desk,RH-01,P1,,,,,,extra"))) == [
        (2, "")
    ]


def test_empty_file_and_header_only_are_refused():
    assert pairs(rejected(parse_resources, "")) == [(1, "")]
    assert pairs(rejected(parse_resources, resources())) == [(2, "")]


def test_bad_bytes_are_reported_by_line():
    data = resources(f"{TREE},desk,RH-01,P1,,,,,").encode() + "hdv,H\xe9tel\n".encode("latin-1")
    assert pairs(rejected(decode, data)) == [(3, "")]


def test_time_zone_must_be_real():
    header = RESOURCE_HEADER + ",site_timezone"
    errors = rejected(parse_resources, resources(f"{TREE},desk,RH-01,P1,,,,,,Europe/Lutece", header=header))
    assert pairs(errors) == [(2, "site_timezone")]


def test_attributes_syntax():
    assert parse_attributes("screens=2; docking_station |standing") == {
        "screens": 2,
        "docking_station": True,
        "standing": True,
    }
    for bad in ("screens=-1", "screens=2;screens=1", "Écran", "screens=2.5"):
        with pytest.raises(ValueError):
            parse_attributes(bad)


# -- people -------------------------------------------------------------------

PEOPLE_HEADER = (
    "email,given_name,family_name,display_name,department,job_title,phone_extension,"
    "language,team_codes,team_names"
)


def people(*lines: str, header: str = PEOPLE_HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def test_a_valid_people_file_gives_typed_rows():
    rows = parse_people(
        people(
            "Marie-Helene.de-la-Fontaine@Mairie-Exemple.fr,Marie-Hélène,de La Fontaine,,"
            "Direction générale,DGS,19 01,,dg|rh,Direction générale|Ressources humaines",
            "nicolas.martin@mairie-exemple.fr,Nicolas,Martin,Nico Martin,Finances,,,EN,rh,",
        )
    )
    first, second = rows
    assert first.email == "marie-helene.de-la-fontaine@mairie-exemple.fr"
    assert first.display_name == "Marie-Hélène de La Fontaine"
    assert first.language == "fr"
    assert first.teams == (("dg", "Direction générale"), ("rh", "Ressources humaines"))
    assert second.display_name == "Nico Martin" and second.language == "en"
    # A team named on another line takes that name.
    assert second.teams == (("rh", "Ressources humaines"),)


def test_without_a_team_codes_column_memberships_are_left_alone():
    (row,) = parse_people("email,given_name,family_name\na@b.fr,A,B\n")
    assert row.teams is None
    (row,) = parse_people("email,given_name,family_name,team_codes\na@b.fr,A,B,\n")
    assert row.teams == ()


def test_every_bad_person_line_is_reported():
    text = people(
        "ok@mairie.fr,A,B,,,,,,,",
        "not-an-email,A,B,,,,,,,",
        "OK@mairie.fr,A,B,,,,,,,",
        "c@mairie.fr,,B,,,,,,,",
        "d@mairie.fr,A,B,,,,,de,,",
        "e@mairie.fr,A,B,,,,poste 12,,,",
        "f@mairie.fr,A,B,,,,,,dsi|com,DSI",
        "g@mairie.fr,A,B,,,,,,dsi,DSI",
        "h@mairie.fr,A,B,,,,,,dsi,Informatique",
        "i@mairie.fr,A,B,,,,,,d s i,",
    )
    errors = rejected(parse_people, text)
    assert pairs(errors) == [
        (3, "email"),
        (4, "email"),
        (5, "given_name"),
        (6, "language"),
        (7, "phone_extension"),
        (8, "team_names"),
        (10, "team_names"),
        (11, "team_codes"),
    ]
    assert "ligne 2" in errors[1]["message"]  # duplicate e-mail, case-insensitive


def test_missing_email_column_is_named():
    assert pairs(rejected(parse_people, "given_name,family_name\nA,B\n")) == [(1, "email")]


# -- the demo -----------------------------------------------------------------


def test_the_demo_files_pass_validation_and_are_deterministic():
    resources_text, people_text = demo_csvs()
    assert demo_csvs() == (resources_text, people_text)
    assert resources_text.splitlines()[0] == ",".join(RESOURCE_COLUMNS)
    rows = parse_resources(resources_text)
    kinds = [r.kind for r in rows]
    assert 110 <= kinds.count("desk") <= 130
    assert 10 <= kinds.count("room") <= 14
    assert kinds.count("equipment") >= 3
    assert {(r.floor_code, r.floor_level) for r in rows} == {("rdc", 0), ("e1", 1), ("e2", 2)}
    for row in rows:
        assert 0 <= row.x <= 1000 and 0 <= row.y <= 600, row.code
    positions = [(r.floor_code, r.x, r.y) for r in rows]
    assert len(set(positions)) == len(positions)
    desks = [r for r in rows if r.kind == "desk"]
    assert all(r.zone_team_code for r in desks)
    assert any(r.restricted_team_codes == ("rh",) for r in desks)
    assert all(1 <= r.attributes["screens"] <= 2 for r in desks)
    rooms = [r for r in rows if r.kind == "room"]
    assert any(r.name == "Salle Seine" for r in rooms)
    assert any(r.name == "Salle créativité" for r in rooms)
    assert sum(r.name.startswith("Box entretien") for r in rooms) >= 3

    staff = parse_people(people_text)
    assert 380 <= len(staff) <= 420
    emails = [p.email for p in staff]
    assert all(e.isascii() and e.endswith("@mairie-exemple.fr") for e in emails)
    assert "agent.demo@mairie-exemple.fr" in emails and "admin.demo@mairie-exemple.fr" in emails
    martins = [p for p in staff if p.display_name == "Nicolas Martin"]
    assert len(martins) >= 2 and len({m.department for m in martins}) >= 2
    assert {"nicolas.martin@mairie-exemple.fr", "nicolas.martin2@mairie-exemple.fr"} <= set(emails)
    assert any("-" in p.given_name for p in staff)
    assert any(p.family_name.startswith("de ") for p in staff)
    assert any(len(p.teams) == 2 for p in staff)
    agent = next(p for p in staff if p.email == "agent.demo@mairie-exemple.fr")
    assert agent.display_name == "Camille Demo" and [c for c, _ in agent.teams] == ["dsi"]
