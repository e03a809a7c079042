"""The booking API end to end: gateway (HTTP) -> RabbitMQ -> booking service
-> PostgreSQL, all real, as an agent's browser or a script would use it."""

import asyncio
import uuid
from datetime import timedelta

import httpx
import psycopg
import pytest
from tests.support.clock import paris_today

pytestmark = pytest.mark.e2e


def day(offset=1):
    return (paris_today() + timedelta(days=offset)).isoformat()


@pytest.fixture
def agents(place, issue):
    """One bearer header per person of the place."""
    return [
        {"Authorization": f"Bearer {issue(email, 'agent', person_id=pid)}"}
        for pid, email in zip(place.people, place.emails)
    ]


@pytest.fixture
def admin(issue):
    return {"Authorization": f"Bearer {issue('admin@mairie-test.fr', 'admin')}"}


def test_fifty_concurrent_requests_for_one_desk_give_one_201_and_49_409(gateway, place, issue, booking_db_url):
    # 50 different agents: the desk is the only thing they compete for.
    headers = []
    with psycopg.connect(booking_db_url) as conn:
        org = conn.execute("SELECT organisation_id FROM person WHERE id = %s", (place.people[0],)).fetchone()[0]
        for i in range(50):
            email = f"racer{i}.{place.site_id[:8]}@mairie-test.fr"
            pid = conn.execute(
                "INSERT INTO person (organisation_id, email, display_name) VALUES (%s, %s, %s) RETURNING id",
                (org, email, f"Racer {i}")).fetchone()[0]
            headers.append({"Authorization": f"Bearer {issue(email, 'agent', person_id=str(pid))}"})
    body = {"resource_id": place.desks[0], "date": day(2), "period": "day"}

    async def race():
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:
            return await asyncio.gather(*(client.post("/api/v1/bookings", json=body, headers=h) for h in headers))

    responses = asyncio.run(race())
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and codes.count(409) == 49, codes
    winner = next(r.json() for r in responses if r.status_code == 201)
    loser = next(r.json() for r in responses if r.status_code == 409)
    assert loser["error"] == "resource_already_booked"
    assert loser["conflict"]["id"] == winner["id"]
    assert "person_id" not in loser["conflict"]


def test_a_taken_desk_is_refused_in_french_by_default_and_in_english_on_request(gateway, place, agents):
    body = {"resource_id": place.desks[1], "date": day(3), "period": "morning"}
    with httpx.Client(base_url=gateway.url, timeout=20) as api:
        assert api.post("/api/v1/bookings", json=body, headers=agents[0]).status_code == 201
        french = api.post("/api/v1/bookings", json=body, headers=agents[1])
        english = api.post("/api/v1/bookings", json=body, headers={**agents[1], "Accept-Language": "en"})
    for answer in (french, english):
        assert answer.status_code == 409
        assert answer.json()["error"] == "resource_already_booked"
        assert answer.json()["conflict"]["resource_id"] == place.desks[1]
    assert french.json()["message"] == "Quelqu'un a déjà réservé Bureau 1 sur ce créneau."
    assert english.json()["message"] == "Bureau 1 is already booked at that time."


def test_a_catalogue_refusal_reads_in_the_callers_language(gateway, agents):
    # Catalogue reads go through the gateway's shared cache; the refusal still
    # follows each caller's language.
    unknown = f"/api/v1/sites/{uuid.uuid4()}"
    with httpx.Client(base_url=gateway.url, timeout=20) as api:
        french = api.get(unknown, headers=agents[0])
        english = api.get(unknown, headers={**agents[0], "Accept-Language": "en"})
    assert french.status_code == english.status_code == 404
    assert french.json()["error"] == english.json()["error"] == "not_found"
    assert french.json()["message"] != english.json()["message"]
    assert french.json()["message"].startswith("Site inconnu")
    assert "site" in english.json()["message"].lower() and "inconnu" not in english.json()["message"]


def test_agent_books_lists_checks_and_cancels(gateway, place, agents):
    me = agents[0]
    with httpx.Client(base_url=gateway.url, headers=me, timeout=10) as api:
        # The day after tomorrow: tomorrow morning opens at 00:00 on the test site, so its
        # check-in window is open in the last minutes of today.
        created = api.post("/api/v1/bookings", json={"resource_id": place.desks[1], "date": day(2), "period": "morning"})
        assert created.status_code == 201, created.text
        booking = created.json()
        assert {"id", "status", "start", "end", "resource_id", "person_id"} <= set(booking)
        assert booking["status"] == "confirmed" and booking["person_id"] == place.people[0]

        assert api.get(f"/api/v1/bookings/{booking['id']}").json()["id"] == booking["id"]
        mine = api.get("/api/v1/bookings", params={"mine": 1}).json()
        mine = mine["bookings"] if isinstance(mine, dict) else mine
        assert booking["id"] in [b["id"] for b in mine]

        too_early = api.post(f"/api/v1/bookings/{booking['id']}/check-in")
        assert too_early.status_code == 422 and too_early.json()["error"] == "check_in_not_open"

        assert api.delete(f"/api/v1/bookings/{booking['id']}").status_code == 200
        assert api.get(f"/api/v1/bookings/{booking['id']}").json()["status"] == "cancelled"


def test_an_agent_cannot_cancel_someone_elses_booking(gateway, place, agents):
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        booking = api.post("/api/v1/bookings", headers=agents[0],
                           json={"resource_id": place.desks[2], "date": day(3), "period": "day"}).json()
        refused = api.delete(f"/api/v1/bookings/{booking['id']}", headers=agents[1])
        assert refused.status_code == 403
        seen = api.get(f"/api/v1/bookings/{booking['id']}", headers=agents[1]).json()
        assert "person_id" not in seen


def test_same_idempotency_key_books_once(gateway, place, agents):
    body = {"resource_id": place.desks[3], "date": day(4), "period": "day"}
    with httpx.Client(base_url=gateway.url, headers={**agents[0], "Idempotency-Key": "retry-42"}, timeout=10) as api:
        first, second = api.post("/api/v1/bookings", json=body), api.post("/api/v1/bookings", json=body)
    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["id"] == second.json()["id"]


def test_recurring_days_report_what_could_not_be_booked(gateway, place, agents):
    first = (paris_today() + timedelta(days=7))
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        api.post("/api/v1/bookings", headers=agents[1],
                 json={"resource_id": place.desks[0], "date": (first + timedelta(days=7)).isoformat(), "period": "day"})
        series = api.post("/api/v1/bookings", headers=agents[0], json={
            "resource_id": place.desks[0], "date": first.isoformat(), "period": "day",
            "rrule": "FREQ=WEEKLY;COUNT=3"})
    assert series.status_code == 201, series.text
    body = series.json()
    assert len(body["bookings"]) == 2 and body["skipped"][0]["reason"] == "resource_already_booked"


def test_availability_and_resources(gateway, place, agents):
    with httpx.Client(base_url=gateway.url, headers=agents[0], timeout=10) as api:
        api.post("/api/v1/bookings", json={"resource_id": place.desks[1], "date": day(5), "period": "day"})
        desks = api.get("/api/v1/resources", params={"floor_id": place.floor_id, "kind": "desk"})
        assert desks.status_code == 200
        desks = desks.json()
        desks = desks["resources"] if isinstance(desks, dict) else desks
        assert {d["id"] for d in desks} == set(place.desks)
        free = api.get("/api/v1/availability", params={"floor_id": place.floor_id, "date": day(5), "period": "day"})
        assert free.status_code == 200, free.text
        status = {r["id"]: r["status"] for r in free.json()["resources"]}
        assert status[place.desks[1]] == "mine" and status[place.desks[0]] == "free"


@pytest.mark.parametrize("body, field", [
    ({"resource_id": 12, "date": "2030-01-01", "period": "day"}, "resource_id"),
    ({"resource_id": "RID", "start": "2030-01-01T10:00:00", "end": "2030-01-01T11:00:00"}, "start"),
    ({"resource_id": "RID", "start": "2030-01-01T10:00:00+01:00", "end": "2030-01-01T09:00:00+01:00"}, "end"),
    ({"resource_id": "RID", "date": "2030-02-30", "period": "day"}, "date"),
    ({"resource_id": "RID", "date": "2030-01-01", "period": "evening"}, "period"),
    ({"resource_id": "RID", "date": "2030-01-01", "period": "day", "colour": "red"}, "colour"),
])
def test_bad_booking_input_gets_a_422_naming_the_field(gateway, place, agents, body, field):
    body = {k: (place.desks[0] if v == "RID" else v) for k, v in body.items()}
    answer = httpx.post(f"{gateway.url}/api/v1/bookings", json=body, headers=agents[0], timeout=10)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field and answer.json()["message"]


def test_other_bad_requests_get_clear_4xx(gateway, place, agents):
    with httpx.Client(base_url=gateway.url, headers=agents[0], timeout=10) as api:
        unknown = api.post("/api/v1/bookings", json={"resource_id": "00000000-0000-0000-0000-000000000000",
                                                     "date": day(), "period": "day"})
        assert unknown.status_code == 404 and unknown.json()["message"]
        ten_years = api.post("/api/v1/bookings", json={"resource_id": place.desks[0],
                                                       "date": day(3652), "period": "day"})
        assert ten_years.status_code == 422 and ten_years.json()["error"] in ("too_far_ahead", "invalid")
        huge = api.post("/api/v1/bookings", content=b'{"x": "' + b"a" * 1_000_000 + b'"}',
                        headers={"Content-Type": "application/json"})
        assert huge.status_code == 413 and huge.json()["message"]
        not_json = api.post("/api/v1/bookings", content=b"{nope", headers={"Content-Type": "application/json"})
        assert not_json.status_code == 400 and not_json.json()["message"]
        assert api.get("/api/v1/bookings/not-a-uuid").status_code in (404, 422)
        assert api.get("/api/v1/availability", params={"floor_id": place.floor_id}).status_code == 422
    assert httpx.get(f"{gateway.url}/api/v1/bookings?mine=1", timeout=10).status_code == 401


def test_admin_edits_places_and_rules_and_agents_cannot(gateway, place, agents, admin):
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        created = api.post("/api/v1/resources", headers=admin, json={
            "zone_id": place.zone_id, "kind": "desk", "code": "NEW-1", "name": "Nouveau bureau"})
        assert created.status_code == 201, created.text
        assert api.post("/api/v1/resources", headers=agents[0], json={
            "zone_id": place.zone_id, "kind": "desk", "code": "NEW-2", "name": "Non"}).status_code == 403
        rules = api.put(f"/api/v1/sites/{place.site_id}/rules/desk", headers=admin, json={"max_days_ahead": 20})
        assert rules.status_code == 200 and rules.json()["max_days_ahead"] == 20
        # The cached catalogue sees the new desk (resource.changed invalidates it).
        for _ in range(50):
            listed = api.get("/api/v1/resources", headers=agents[0], params={"floor_id": place.floor_id}).json()
            listed = listed["resources"] if isinstance(listed, dict) else listed
            if created.json()["id"] in {r["id"] for r in listed}:
                break
            import time
            time.sleep(0.1)
        else:
            pytest.fail("the new desk never appeared in the resource list")


def test_people_search(gateway, place, agents):
    found = httpx.get(f"{gateway.url}/api/v1/people", params={"q": place.emails[1].split("@")[0]},
                      headers=agents[0], timeout=10)
    assert found.status_code == 200
    people = found.json()
    people = people["people"] if isinstance(people, dict) else people
    assert [p["email"] for p in people] == [place.emails[1]]
    assert {"id", "email", "display_name", "teams"} <= set(people[0])


def test_admin_imports_resources_from_csv_and_a_bad_line_imports_nothing(gateway, admin, agents, booking_db_url):
    header = ("site_code;site_name;building_code;building_name;floor_code;floor_name;floor_level;"
              "zone_code;zone_name;kind;code;name;capacity\n")
    tag = uuid.uuid4().hex[:6]
    good = (header
            + f"imp-{tag};Maison France Services;A;Bâtiment A;1;Étage 1;1;z;Accueil;desk;D1;Poste 1;1\n"
            + f"imp-{tag};Maison France Services;A;Bâtiment A;1;Étage 1;1;z;Accueil;room;R1;Salle Loire;8\n")
    bad = good + f"imp-{tag};Maison France Services;A;Bâtiment A;1;Étage 1;1;z;Accueil;sofa;S1;Canapé;1\n"
    csv_headers = {**admin, "Content-Type": "text/csv"}
    with httpx.Client(base_url=gateway.url, timeout=20) as api:
        refused = api.post("/api/v1/imports/resources", content=bad.encode(), headers=csv_headers)
        assert refused.status_code == 422, refused.text
        errors = refused.json()["errors"]
        # An administrator's CSV errors are in French unless the browser asks otherwise.
        assert errors == [{"line": 4, "column": "kind", "message":
                           "Type inconnu 'sofa' : utilisez desk (poste), room (salle) ou "
                           "equipment (équipement)."}]
        assert refused.json()["message"].startswith("1 erreur(s) dans le fichier ; rien n'a été importé.")
        english = api.post("/api/v1/imports/resources", content=bad.encode(),
                           headers={**csv_headers, "Accept-Language": "en-GB,en;q=0.8"})
        assert english.status_code == 422
        assert english.json()["errors"][0]["message"] == \
            "Unknown kind 'sofa': use desk, room or equipment."
        with psycopg.connect(booking_db_url) as conn:
            assert conn.execute("SELECT count(*) FROM site WHERE code = %s", (f"imp-{tag}",)).fetchone()[0] == 0
        assert api.post("/api/v1/imports/resources", content=good.encode(),
                        headers={**agents[0], "Content-Type": "text/csv"}).status_code == 403
        imported = api.post("/api/v1/imports/resources", content=good.encode(), headers=csv_headers)
        assert imported.status_code == 200, imported.text
        assert imported.json()["created"] >= 2
        again = api.post("/api/v1/imports/resources", content=good.encode(), headers=csv_headers).json()
        assert again == {"created": 0, "updated": 0}
