"""The demo site's place tree, as a resources CSV.

One building of a town hall's administrative centre on three floors. Each
floor plan is 1000 x 600; desks sit in islands of four (two facing two) inside
their department's zone, meeting rooms and boxes along the bottom of the plan.
Positions are the centre of the desk or room.
"""

from __future__ import annotations

import csv
import io
import random

from booking.domain.imports import RESOURCE_COLUMNS

SITE = {
    "site_code": "hdv",
    "site_name": "Hôtel de Ville — Centre administratif",
    "site_timezone": "Europe/Paris",
    "site_address": "1 place de la Mairie, 00100 Ville-Exemple",
    "building_code": "ca",
    "building_name": "Centre administratif",
}

FLOORS = (
    ("rdc", "Rez-de-chaussée", 0),
    ("e1", "1er étage", 1),
    ("e2", "2e étage", 2),
)

# (floor, zone code, zone name, team code, desk code prefix, desks, origin x, origin y,
#  islands per row)
DESK_ZONES = (
    ("rdc", "etat-civil", "Espace État civil", "etatcivil", "EC", 12, 60, 50, 3),
    ("rdc", "ccas", "Espace CCAS", "ccas", "CCAS", 16, 470, 50, 2),
    ("rdc", "scolaire", "Espace Affaires scolaires", "scol", "SCO", 12, 60, 250, 3),
    ("e1", "rh", "Espace Ressources humaines", "rh", "RH", 14, 60, 50, 2),
    ("e1", "finances", "Espace Finances", "fin", "FIN", 14, 370, 50, 2),
    ("e1", "urbanisme", "Espace Urbanisme", "urba", "URB", 12, 680, 50, 2),
    ("e2", "dsi", "Espace DSI", "dsi", "DSI", 16, 60, 50, 2),
    ("e2", "communication", "Espace Communication", "com", "COM", 10, 370, 50, 2),
    ("e2", "direction", "Espace Direction générale", "dg", "DG", 8, 680, 50, 2),
    ("e2", "juridique", "Espace Affaires juridiques", "jur", "JUR", 6, 680, 200, 2),
)

# Desks only the zone's team may book: the HR files and social-aid casework.
RESTRICTED = {"RH-01": "rh", "RH-02": "rh", "RH-03": "rh", "RH-04": "rh",
              "CCAS-01": "ccas", "CCAS-02": "ccas"}

# (floor, zone code, zone name, code, name, capacity, attributes, x, y)
ROOMS = (
    ("rdc", "boxes", "Boxes d'entretien", "BOX-1", "Box entretien 1", 3,
     "accessible", 520, 470),
    ("rdc", "boxes", "Boxes d'entretien", "BOX-2", "Box entretien 2", 3,
     "accessible", 610, 470),
    ("rdc", "boxes", "Boxes d'entretien", "BOX-3", "Box entretien 3", 3,
     "accessible;video_conferencing;screens=1", 700, 470),
    ("rdc", "boxes", "Boxes d'entretien", "BOX-4", "Box entretien 4", 2, "", 790, 470),
    ("rdc", "reunions-rdc", "Salles de réunion (RDC)", "SALLE-SEINE", "Salle Seine", 20,
     "video_conferencing;screens=2;accessible", 130, 500),
    ("e1", "reunions-e1", "Salles de réunion (1er)", "SALLE-LOIRE", "Salle Loire", 12,
     "video_conferencing;screens=1;accessible", 150, 490),
    ("e1", "reunions-e1", "Salles de réunion (1er)", "SALLE-GARONNE", "Salle Garonne", 8,
     "video_conferencing;screens=1", 420, 490),
    ("e1", "reunions-e1", "Salles de réunion (1er)", "SALLE-RHONE", "Salle Rhône", 6,
     "video_conferencing;screens=1", 640, 490),
    ("e1", "reunions-e1", "Salles de réunion (1er)", "SALLE-DORDOGNE", "Salle Dordogne", 4,
     "video_conferencing;screens=1", 840, 490),
    ("e2", "reunions-e2", "Salles de réunion (2e)", "SALLE-CHARENTE", "Salle Charente", 10,
     "video_conferencing;screens=1;accessible", 150, 490),
    ("e2", "reunions-e2", "Salles de réunion (2e)", "SALLE-VIENNE", "Salle Vienne", 6,
     "video_conferencing;screens=1", 400, 490),
    ("e2", "reunions-e2", "Salles de réunion (2e)", "CREATIVITE", "Salle créativité", 12,
     "video_conferencing;screens=1;whiteboard;standing;accessible", 720, 480),
)

EQUIPMENT = (
    ("VP-1", "Vidéoprojecteur 1", 900, 80),
    ("VP-2", "Vidéoprojecteur 2", 900, 120),
    ("KIT-CAMERA", "Kit caméra visio", 900, 160),
    ("PC-PRET-1", "Ordinateur portable de prêt 1", 900, 200),
    ("PC-PRET-2", "Ordinateur portable de prêt 2", 900, 240),
)
EQUIPMENT_ZONE = ("rdc", "pret-materiel", "Accueil — prêt de matériel")

ISLAND_WIDTH, ISLAND_DEPTH = 130, 110  # pitch between islands
DESK_DX, DESK_DY = 50, 40  # pitch between the four desks of an island


def desk_positions(count: int, origin_x: int, origin_y: int, per_row: int) -> list[tuple]:
    """Centres of ``count`` desks in islands of four, ``per_row`` islands wide."""
    positions = []
    for index in range(count):
        island, seat = divmod(index, 4)
        row, column = divmod(island, per_row)
        positions.append(
            (
                origin_x + column * ISLAND_WIDTH + (seat % 2) * DESK_DX,
                origin_y + row * ISLAND_DEPTH + (seat // 2) * DESK_DY,
            )
        )
    return positions


def _desk_attributes(rng: random.Random, team: str, seat: int) -> str:
    screens = 2 if team == "dsi" or rng.random() < 0.55 else 1
    items = [f"screens={screens}"]
    if team == "dsi" or rng.random() < 0.8:
        items.append("docking_station")
    if rng.random() < 0.12:
        items.append("standing")
    # The first desk of each zone, by the aisle, is wheelchair accessible.
    if seat == 0 or rng.random() < 0.05:
        items.append("accessible")
    return ";".join(items)


def resource_rows(seed: int = 1789) -> list[dict]:
    rng = random.Random(seed)
    floors = {code: (name, level) for code, name, level in FLOORS}
    rows = []

    def row(floor, zone_code, zone_name, team, kind, code, name, capacity, attributes,
            restricted, x, y):
        floor_name, level = floors[floor]
        rows.append(
            {
                **SITE,
                "floor_code": floor,
                "floor_name": floor_name,
                "floor_level": level,
                "zone_code": zone_code,
                "zone_name": zone_name,
                "zone_team_code": team,
                "kind": kind,
                "code": code,
                "name": name,
                "capacity": capacity,
                "attributes": attributes,
                "restricted_team_codes": restricted,
                "x": x,
                "y": y,
            }
        )

    for floor, zone, zone_name, team, prefix, count, ox, oy, per_row in DESK_ZONES:
        for seat, (x, y) in enumerate(desk_positions(count, ox, oy, per_row)):
            code = f"{prefix}-{seat + 1:02d}"
            label = f"Poste {prefix} {seat + 1:02d}"
            if code in RESTRICTED:
                label += " (confidentiel)"
            row(floor, zone, zone_name, team, "desk", code, label, 1,
                _desk_attributes(rng, team, seat), RESTRICTED.get(code, ""), x, y)
    for floor, zone, zone_name, code, name, capacity, attributes, x, y in ROOMS:
        row(floor, zone, zone_name, "", "room", code, name, capacity, attributes, "", x, y)
    floor, zone, zone_name = EQUIPMENT_ZONE
    for code, name, x, y in EQUIPMENT:
        row(floor, zone, zone_name, "", "equipment", code, name, 1, "", "", x, y)
    return rows


def resources_csv(seed: int = 1789) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RESOURCE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(resource_rows(seed))
    return out.getvalue()
