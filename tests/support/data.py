"""Build small, separate places and people for a test, straight in the
booking database (the test's own setup, not the code under test)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg.rows import dict_row


@dataclass
class Place:
    site_id: str
    building_id: str
    floor_id: str
    zone_id: str
    team_zone_id: str
    team_id: str
    other_team_id: str
    desks: list[str] = field(default_factory=list)
    rooms: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)


def make_place(database_url: str, desks: int = 4, rooms: int = 1, people: int = 3,
               open_every_day: bool = True, timezone: str = "Europe/Paris") -> Place:
    """A site open around the clock every day (unless told otherwise), with
    a team zone, desks, rooms and people in a team, all with unique codes."""
    tag = uuid.uuid4().hex[:8]
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        one = lambda q, p=(): str(conn.execute(q, p).fetchone()["id"])  # noqa: E731
        org = one("INSERT INTO organisation (code, name) VALUES (%s, %s) RETURNING id", (f"org-{tag}", "Test"))
        closed = "{}" if open_every_day else "{6,7}"
        site = one(
            "INSERT INTO site (organisation_id, code, name, timezone, opening_time, midday_time, "
            "closing_time, closed_weekdays, holiday_country) "
            "VALUES (%s, %s, %s, %s, '00:00', '12:00', '23:59', %s, %s) RETURNING id",
            (org, f"s-{tag}", f"Site {tag}", timezone, closed, "" if open_every_day else "FR"),
        )
        for kind in ("desk", "room", "equipment"):
            # Around-the-clock sites need day bookings longer than the default cap.
            conn.execute(
                "INSERT INTO booking_rule VALUES (%s, %s, 30, 182, 1440, 15, 30)", (site, kind)
            )
        building = one("INSERT INTO building (site_id, code, name) VALUES (%s, 'B', 'Bâtiment') RETURNING id", (site,))
        floor = one("INSERT INTO floor (building_id, code, name, level) VALUES (%s, 'F1', 'Étage 1', 1) RETURNING id",
                    (building,))
        team = one("INSERT INTO team (organisation_id, code, name) VALUES (%s, 'dsi', 'DSI') RETURNING id", (org,))
        other = one("INSERT INTO team (organisation_id, code, name) VALUES (%s, 'rh', 'RH') RETURNING id", (org,))
        zone = one("INSERT INTO zone (floor_id, code, name) VALUES (%s, 'Z', 'Open space') RETURNING id", (floor,))
        team_zone = one("INSERT INTO zone (floor_id, code, name, team_id) VALUES (%s, 'ZT', 'DSI', %s) RETURNING id",
                        (floor, team))
        place = Place(site, building, floor, zone, team_zone, team, other)
        for i in range(desks):
            place.desks.append(one(
                "INSERT INTO resource (site_id, floor_id, zone_id, kind, code, name, attributes, x, y) "
                "VALUES (%s, %s, %s, 'desk', %s, %s, %s, %s, %s) RETURNING id",
                (site, floor, zone if i % 2 else team_zone, f"D{i:03d}", f"Bureau {i}",
                 '{"screens": 2, "docking_station": true}' if i % 3 == 0 else '{"screens": 1}',
                 10.0 * i, 20.0),
            ))
        for i in range(rooms):
            place.rooms.append(one(
                "INSERT INTO resource (site_id, floor_id, zone_id, kind, code, name, capacity, attributes) "
                "VALUES (%s, %s, %s, 'room', %s, %s, 8, '{\"video_conferencing\": true}') RETURNING id",
                (site, floor, zone, f"R{i:02d}", f"Salle {i}"),
            ))
        for i in range(people):
            email = f"agent{i}.{tag}@mairie-test.fr"
            person = one(
                "INSERT INTO person (organisation_id, email, given_name, family_name, display_name) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (org, email, f"Agent{i}", f"Test{tag}", f"Agent{i} Test{tag}"),
            )
            conn.execute("INSERT INTO team_member (team_id, person_id) VALUES (%s, %s)", (team, person))
            place.people.append(person)
            place.emails.append(email)
    return place


@pytest.fixture
def place(booking_db_url) -> Place:
    return make_place(booking_db_url)
