"""The demo staff: about 400 town-hall agents in teams, as a people CSV.

Names are drawn with a fixed seed, so every run produces the same people.
A few are placed on purpose because directories must cope with them: two
"Nicolas Martin" in different departments, hyphenated given names, family
names with particles and apostrophes. E-mail addresses follow the usual
``prenom.nom@mairie-exemple.fr`` pattern, folded to ASCII, with a digit when
the address is already taken.
"""

from __future__ import annotations

import csv
import io
import random
import re
import unicodedata

from booking.domain.imports import PEOPLE_COLUMNS

from .names import FAMILY, FEMALE, MALE

DOMAIN = "mairie-exemple.fr"

# code, team name, department, head count, phone block, job titles ("masculine|feminine"
# when the two forms differ; the first title is the head of the department)
TEAMS = (
    ("etatcivil", "État civil", "Population et état civil", 36, 11, (
        "Responsable du service population", "Officier d'état civil", "Agent d'accueil",
        "Chargé des élections|Chargée des élections", "Gestionnaire des cimetières",
        "Agent administratif",
    )),
    ("ccas", "CCAS", "Centre communal d'action sociale", 58, 12, (
        "Directeur du CCAS|Directrice du CCAS", "Travailleur social|Travailleuse sociale",
        "Conseiller en économie sociale et familiale|Conseillère en économie sociale et familiale",
        "Agent d'accueil social", "Instructeur RSA|Instructrice RSA",
        "Coordinateur maintien à domicile|Coordinatrice maintien à domicile",
        "Assistant social|Assistante sociale",
    )),
    ("scol", "Affaires scolaires", "Éducation et affaires scolaires", 44, 13, (
        "Responsable des affaires scolaires", "Gestionnaire des inscriptions scolaires",
        "Coordinateur périscolaire|Coordinatrice périscolaire",
        "Responsable de la restauration scolaire", "Agent administratif",
    )),
    ("rh", "Ressources humaines", "Ressources humaines", 30, 14, (
        "Directeur des ressources humaines|Directrice des ressources humaines",
        "Gestionnaire paie", "Gestionnaire carrières",
        "Chargé de recrutement|Chargée de recrutement",
        "Conseiller prévention|Conseillère prévention",
        "Chargé de formation|Chargée de formation",
    )),
    ("fin", "Finances", "Finances et budget", 34, 15, (
        "Directeur des finances|Directrice des finances", "Comptable",
        "Contrôleur de gestion|Contrôleuse de gestion", "Gestionnaire budgétaire",
        "Chargé de la dette et de la trésorerie|Chargée de la dette et de la trésorerie",
    )),
    ("urba", "Urbanisme", "Urbanisme et aménagement", 34, 16, (
        "Responsable de l'urbanisme", "Instructeur droit des sols|Instructrice droit des sols",
        "Chargé d'études urbaines|Chargée d'études urbaines", "Géomaticien|Géomaticienne",
        "Responsable foncier|Responsable foncière",
    )),
    ("dsi", "DSI", "Direction des systèmes d'information", 30, 17, (
        "Directeur des systèmes d'information|Directrice des systèmes d'information",
        "Technicien support|Technicienne support",
        "Administrateur systèmes et réseaux|Administratrice systèmes et réseaux",
        "Chef de projet applicatif|Cheffe de projet applicatif",
        "Développeur|Développeuse", "Responsable de la sécurité des SI",
    )),
    ("com", "Communication", "Communication", 20, 18, (
        "Directeur de la communication|Directrice de la communication",
        "Chargé de communication|Chargée de communication", "Graphiste",
        "Community manager", "Photographe", "Rédacteur en chef du magazine|Rédactrice en chef du magazine",
    )),
    ("dg", "Direction générale", "Direction générale des services", 14, 19, (
        "Directeur général des services|Directrice générale des services",
        "Assistant de direction|Assistante de direction",
        "Chargé de mission|Chargée de mission", "Collaborateur de cabinet|Collaboratrice de cabinet",
    )),
    ("jur", "Affaires juridiques", "Affaires juridiques et commande publique", 20, 20, (
        "Responsable des affaires juridiques", "Juriste", "Acheteur public|Acheteuse publique",
        "Gestionnaire marchés publics", "Chargé des assurances|Chargée des assurances",
    )),
    ("tech", "Services techniques", "Services techniques", 46, 21, (
        "Directeur des services techniques|Directrice des services techniques",
        "Jardinier|Jardinière", "Agent de voirie", "Électricien|Électricienne",
        "Responsable des bâtiments", "Technicien espaces verts|Technicienne espaces verts",
        "Agent d'entretien",
    )),
    ("culture", "Culture et sports", "Culture, sports et vie associative", 32, 22, (
        "Responsable culture et sports",
        "Chargé de la vie associative|Chargée de la vie associative",
        "Médiateur culturel|Médiatrice culturelle", "Éducateur sportif|Éducatrice sportive",
        "Responsable des équipements sportifs",
    )),
)

# Who also works with whom: a few agents belong to a second team.
SECOND_TEAM = {
    "dsi": "com", "com": "dsi", "fin": "jur", "jur": "fin", "rh": "dg", "dg": "rh",
    "ccas": "scol", "scol": "ccas", "urba": "tech", "tech": "urba", "culture": "com",
    "etatcivil": "ccas",
}

# People placed on purpose: (given name, family name, gender, team, job title index).
NOTABLE = (
    ("Marie-Hélène", "de La Fontaine", "f", "dg", 0),
    ("Nicolas", "Martin", "m", "fin", 1),
    ("Nicolas", "Martin", "m", "tech", 1),
    ("Jean-Baptiste", "Lefèvre", "m", "dsi", 5),
    ("Anne-Sophie", "N'Diaye", "f", "ccas", 0),
    ("François-Xavier", "d'Almeida", "m", "jur", 0),
    ("Zoé", "Le Gall", "f", "com", 1),
    ("Loïc", "Nguyen", "m", "dsi", 1),
    ("Hélène", "Saint-Martin", "f", "rh", 0),
    ("Jérôme", "Lefèvre-Durand", "m", "urba", 0),
    ("Maëlle", "Cœurdevey", "f", "etatcivil", 0),
    ("Gaël", "de Saint-Exupéry", "m", "culture", 0),
)

DEMO_ACCOUNTS = (
    {
        "email": f"agent.demo@{DOMAIN}",
        "given_name": "Camille",
        "family_name": "Demo",
        "department": "Direction des systèmes d'information",
        "job_title": "Cheffe de projet numérique",
        "phone_extension": "1799",
        "language": "fr",
        "team_codes": "dsi",
        "team_names": "DSI",
    },
    {
        "email": f"admin.demo@{DOMAIN}",
        "given_name": "Dominique",
        "family_name": "Admin",
        "department": "Direction générale des services",
        "job_title": "Responsable des moyens généraux",
        "phone_extension": "1999",
        "language": "fr",
        "team_codes": "dg",
        "team_names": "Direction générale",
    },
)


def ascii_fold(text: str) -> str:
    """``Cœurdevey`` to ``coeurdevey``, ``Hélène`` to ``helene``."""
    text = text.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).encode(
        "ascii", "ignore"
    ).decode()


def email_local_part(given: str, family: str) -> str:
    def part(name: str) -> str:
        name = ascii_fold(name).lower().replace("'", "")
        return re.sub(r"[^a-z0-9]+", "-", name).strip("-")

    return f"{part(given)}.{part(family)}"


class _Emails:
    def __init__(self):
        self.taken: set[str] = {a["email"] for a in DEMO_ACCOUNTS}

    def new(self, given: str, family: str) -> str:
        local = email_local_part(given, family)
        candidate, n = local, 1
        while f"{candidate}@{DOMAIN}" in self.taken:
            n += 1
            candidate = f"{local}{n}"
        email = f"{candidate}@{DOMAIN}"
        self.taken.add(email)
        return email


def _title(titles: tuple[str, ...], index: int, gender: str) -> str:
    masculine, _, feminine = titles[index].partition("|")
    return feminine if gender == "f" and feminine else masculine


def people_rows(seed: int = 1905) -> list[dict]:
    rng = random.Random(seed)
    emails = _Emails()
    teams = {t[0]: t for t in TEAMS}
    rows: list[dict] = []
    extensions: dict[str, int] = {code: 0 for code in teams}

    def person(given, family, gender, team_code, title_index):
        code, team_name, department, _, block, titles = teams[team_code]
        extensions[code] += 1
        # Field staff (gardeners, road crews) mostly have no desk phone.
        has_phone = not (code == "tech" and title_index in (1, 2, 6) and rng.random() < 0.7)
        team_codes, team_names = [code], [team_name]
        if rng.random() < 0.07:
            other = teams[SECOND_TEAM[code]]
            team_codes.append(other[0])
            team_names.append(other[1])
        rows.append(
            {
                "email": emails.new(given, family),
                "given_name": given,
                "family_name": family,
                "display_name": "",
                "department": department,
                "job_title": _title(titles, title_index, gender),
                "phone_extension": f"{block}{extensions[code]:02d}" if has_phone else "",
                "language": "en" if rng.random() < 0.02 else "fr",
                "team_codes": "|".join(team_codes),
                "team_names": "|".join(team_names),
            }
        )

    placed: dict[str, int] = {code: 0 for code in teams}
    headed: set[str] = set()
    for given, family, gender, team_code, title_index in NOTABLE:
        person(given, family, gender, team_code, title_index)
        placed[team_code] += 1
        if title_index == 0:
            headed.add(team_code)
    for code, _, _, head_count, _, titles in TEAMS:
        for index in range(placed[code], head_count):
            gender = rng.choice("fm")
            given = rng.choice(FEMALE if gender == "f" else MALE)
            family = rng.choice(FAMILY)
            # Each team has one head: a notable person, or the first one drawn.
            if code in headed:
                title_index = rng.randrange(1, len(titles))
            else:
                title_index = 0
                headed.add(code)
            person(given, family, gender, code, title_index)
    rows.extend(dict(account, display_name="") for account in DEMO_ACCOUNTS)
    return rows


def people_csv(seed: int = 1905) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=PEOPLE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(people_rows(seed))
    return out.getvalue()
