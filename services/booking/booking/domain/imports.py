"""CSV imports of the place tree and of people: parsing and validation.

Administrators describe their sites and staff in two spreadsheets. This module
turns the text of such a file into typed rows, or refuses the whole file: every
problem is collected as ``{"line": n, "column": "name", "message": "..."}``
and raised together as :class:`~booking.domain.errors.ImportRejected`, so a
person can fix all of them in one pass. Line numbers are the spreadsheet's row
numbers: the header is line 1, the first data row line 2. Nothing here does
I/O; checks that need the database (do the team codes exist?) are made by
``booking.adapters.importer``, which also reports them by line and column.

Files are UTF-8, with or without a byte-order mark, and use ``,`` or ``;``
as the delimiter (French Excel writes ``;``); the header row decides which.
Column names are matched case-insensitively, in any order; an unknown or
repeated column is an error (a typo must not silently drop data). Blank rows
are skipped. Cells are trimmed.

Resources file: one row per desk, room or piece of equipment; the rows also
describe (and upsert, by code) the site > building > floor > zone it sits in.

=======================  ========  =================================================
column                   required  value
=======================  ========  =================================================
site_code                yes       code of the site, unique in the organisation
site_name                yes       e.g. ``Hôtel de Ville — Centre administratif``
site_timezone            no        IANA zone; blank: ``Europe/Paris`` for a new site,
                                   unchanged for an existing one
site_address             no        postal address; blank: unchanged
building_code            yes       unique in the site
building_name            yes
floor_code               yes       unique in the building
floor_name               yes
floor_level              yes       whole number, 0 = ground floor, -1 = basement
zone_code                yes       unique in the floor
zone_name                yes
zone_team_code           no        the team the zone is set aside for (blank: none);
                                   the team must exist (import people first)
kind                     yes       ``desk``, ``room`` or ``equipment``
code                     yes       the resource's code, unique in the site
name                     yes
capacity                 no        whole number >= 1, default 1
attributes               no        ``screens=2;docking_station;standing`` (``;`` or
                                   ``|`` between items; an item is a name, meaning
                                   yes, or ``name=whole number``)
restricted_team_codes    no        ``rh|dg``: only these teams may book it; the
                                   teams must exist (import people first)
x, y                     no        position on the floor plan (both or neither;
                                   ``12.5`` or ``12,5``)
=======================  ========  =================================================

Rows sharing a site, building, floor or zone code must agree on its name and
other columns. Codes are letters, digits, ``.``, ``_`` and ``-`` (64 at most).

People file: one row per person, matched by e-mail address (case-insensitive).

=======================  ========  =================================================
column                   required  value
=======================  ========  =================================================
email                    yes       unique in the file
given_name               yes
family_name              yes
display_name             no        default ``given_name family_name``
department               no
job_title                no
phone_extension          no        digits, spaces and ``+ . - ( )``
language                 no        ``fr`` or ``en``, default ``fr``
team_codes               no        ``dsi|com``: the person's teams, replacing the
                                   current ones (blank: no team). Without this
                                   column, memberships are left as they are.
team_names               no        ``DSI|Communication``, same order as team_codes;
                                   names teams that are created or renamed
=======================  ========  =================================================

A team code used with two different names in one file is an error.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field

from .errors import ImportRejected
from . import messages

RESOURCE_KINDS = ("desk", "room", "equipment")
LANGUAGES = ("fr", "en")
MAX_TEXT = 200
MAX_CODE = 64
MAX_CAPACITY = 10_000

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ATTRIBUTE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s,;<>\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
PHONE_RE = re.compile(r"^[0-9+.() -]{1,32}$")

RESOURCE_COLUMNS = (
    "site_code",
    "site_name",
    "site_timezone",
    "site_address",
    "building_code",
    "building_name",
    "floor_code",
    "floor_name",
    "floor_level",
    "zone_code",
    "zone_name",
    "zone_team_code",
    "kind",
    "code",
    "name",
    "capacity",
    "attributes",
    "restricted_team_codes",
    "x",
    "y",
)
RESOURCE_REQUIRED = (
    "site_code",
    "site_name",
    "building_code",
    "building_name",
    "floor_code",
    "floor_name",
    "floor_level",
    "zone_code",
    "zone_name",
    "kind",
    "code",
    "name",
)

PEOPLE_COLUMNS = (
    "email",
    "given_name",
    "family_name",
    "display_name",
    "department",
    "job_title",
    "phone_extension",
    "language",
    "team_codes",
    "team_names",
)
PEOPLE_REQUIRED = ("email", "given_name", "family_name")


@dataclass(frozen=True)
class ResourceRow:
    """One line of a resources file, validated. ``line`` is its spreadsheet row."""

    line: int
    site_code: str
    site_name: str
    site_timezone: str | None
    site_address: str | None
    building_code: str
    building_name: str
    floor_code: str
    floor_name: str
    floor_level: int
    zone_code: str
    zone_name: str
    zone_team_code: str | None
    kind: str
    code: str
    name: str
    capacity: int = 1
    attributes: dict = field(default_factory=dict)
    restricted_team_codes: tuple[str, ...] = ()
    x: float | None = None
    y: float | None = None


@dataclass(frozen=True)
class PersonRow:
    """One line of a people file, validated.

    ``teams`` is ``None`` when the file has no ``team_codes`` column (leave
    memberships alone), else the ``(code, name or None)`` pairs to hold.
    """

    line: int
    email: str
    given_name: str
    family_name: str
    display_name: str
    department: str
    job_title: str
    phone_extension: str
    language: str
    teams: tuple[tuple[str, str | None], ...] | None


class _Errors:
    def __init__(self):
        self.items: list[dict] = []

    def add(self, line: int, column: str, message: str) -> None:
        self.items.append({"line": line, "column": column, "message": message})

    def raise_if_any(self) -> None:
        if self.items:
            self.items.sort(key=lambda e: e["line"])
            raise ImportRejected(self.items)


# -- reading the file ---------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8 bytes (BOM or not) to text; a bad byte is reported by line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected(
            [
                {
                    "line": line,
                    "column": "",
                    "message": messages.text("the_file_is_not_utf_8"),
                }
            ]
        ) from None


def _delimiter(header_line: str) -> str:
    # Count outside quotes: a quoted column name could hold the other character.
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    return ";" if unquoted.count(";") > unquoted.count(",") else ","


def _read(
    text: str | bytes, known: tuple[str, ...], required: tuple[str, ...], errors: _Errors
) -> tuple[set[str], list[tuple[int, dict[str, str]]]]:
    """The columns present and ``(line, {column: trimmed cell})`` per data row."""
    if isinstance(text, (bytes, bytearray)):
        text = decode(bytes(text))
    if not isinstance(text, str):
        raise ImportRejected([{"line": 1, "column": "",
                               "message": messages.text("the_file_is_not_text")}])
    text = text.lstrip("\ufeff")
    if not text.strip():
        errors.add(1, "", messages.text("the_file_is_empty_the_first"))
        errors.raise_if_any()
    first_line = text.splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        records = list(reader)
    except csv.Error as exc:
        errors.add(reader.line_num or 1, "", messages.text("unreadable_csv_exc", exc=exc))
        errors.raise_if_any()
        raise AssertionError("unreachable") from None

    header = [cell.strip().lower() for cell in records[0]]
    listed = False
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        if not name:
            if any(len(r) > index and r[index].strip() for r in records[1:]):
                errors.add(1, f"#{index + 1}",
                           messages.text("column_number_has_values_but_no", number=index + 1))
            continue
        if name in columns:
            errors.add(1, name, messages.text("column_name_appears_twice", name=name))
        elif name not in known:
            # The known columns are listed once, with the first unknown one.
            errors.add(
                1,
                name,
                messages.text("unknown_column_name", name=name) if listed
                else messages.text("unknown_column_name_listed", name=name,
                                   columns=", ".join(known)),
            )
            listed = True
        else:
            columns[name] = index
    for name in required:
        if name not in columns:
            errors.add(1, name, messages.text("required_column_name_is_missing", name=name))
    errors.raise_if_any()

    rows = []
    for line, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        extra = [cell for cell in record[len(header):] if cell.strip()]
        if extra:
            errors.add(
                line, "", messages.text("the_line_has_cells_cells_but", cells=len(record),
                                        columns=len(header))
            )
            continue
        rows.append(
            (line, {name: (record[i].strip() if i < len(record) else "") for name, i in columns.items()})
        )
    if not rows and not errors.items:
        errors.add(2, "", messages.text("the_file_has_a_header_but"))
    return set(columns), rows


# -- cell validators (each returns the value, or None after recording an error) --


def _text(errors, line, row, column, required=False, limit=MAX_TEXT):
    value = row.get(column, "")
    if not value:
        if required:
            errors.add(line, column, messages.text("column_is_required", column=column))
        return None
    if len(value) > limit:
        errors.add(line, column,
                   messages.text("column_is_longer_than_limit_characters", column=column,
                                 limit=limit))
        return None
    if any(ord(ch) < 32 for ch in value):
        errors.add(line, column,
                   messages.text("column_contains_control_characters_or_line", column=column))
        return None
    return value


def _code(errors, line, column, value):
    if len(value) > MAX_CODE or not CODE_RE.match(value):
        errors.add(
            line,
            column,
            messages.text("value_is_not_a_valid_code", value=value, max_code=MAX_CODE),
        )
        return None
    return value


def _required_code(errors, line, row, column):
    value = _text(errors, line, row, column, required=True, limit=10_000)
    return _code(errors, line, column, value) if value is not None else None


def _optional_code(errors, line, row, column):
    value = row.get(column, "")
    return _code(errors, line, column, value) if value else None


def _code_list(errors, line, row, column) -> tuple[str, ...] | None:
    value = row.get(column, "")
    if not value:
        return ()
    codes = [part.strip() for part in value.split("|")]
    out: list[str] = []
    for code in codes:
        if not code:
            errors.add(line, column,
                       messages.text("column_has_an_empty_item_separate", column=column))
            return None
        if _code(errors, line, column, code) is None:
            return None
        if code in out:
            errors.add(line, column, messages.text("team_code_is_listed_twice", code=code))
            return None
        out.append(code)
    return tuple(out)


def _integer(errors, line, row, column, default=None, minimum=None, maximum=None):
    value = row.get(column, "")
    if not value:
        if default is None:
            errors.add(line, column, messages.text("column_is_required", column=column))
        return default
    try:
        number = int(value)
    except ValueError:
        errors.add(line, column,
                   messages.text("column_must_be_a_whole_number", column=column, value=value))
        return None
    if minimum is not None and number < minimum:
        errors.add(line, column,
                   messages.text("column_must_be_at_least_minimum", column=column, minimum=minimum,
                                 number=number))
        return None
    if maximum is not None and number > maximum:
        errors.add(line, column,
                   messages.text("column_must_be_at_most_maximum", column=column, maximum=maximum,
                                 number=number))
        return None
    return number


def _number(errors, line, row, column):
    value = row.get(column, "")
    if not value:
        return None
    try:
        number = float(value.replace(",", ".").replace(" ", ""))
    except ValueError:
        errors.add(line, column,
                   messages.text("column_must_be_a_number_not", column=column, value=value))
        return None
    if not math.isfinite(number) or abs(number) > 1_000_000:
        errors.add(line, column, messages.text("column_must_be_a_finite_number", column=column))
        return None
    return number


def parse_attributes(value: str) -> dict:
    """``screens=2;docking_station`` to ``{"screens": 2, "docking_station": True}``.

    Raises ``ValueError`` with a message for a person.
    """
    attributes: dict = {}
    for item in re.split(r"[;|]", value):
        item = item.strip()
        if not item:
            continue
        name, sep, raw = item.partition("=")
        name = name.strip().lower()
        if not ATTRIBUTE_RE.match(name):
            raise ValueError(
                messages.text("name_is_not_an_attribute_name", name=name)
            )
        if name in attributes:
            raise ValueError(messages.text("attribute_name_appears_twice", name=name))
        if sep:
            try:
                number = int(raw.strip())
            except ValueError:
                raise ValueError(
                    messages.text("attribute_name_must_be_a_whole", name=name, value=raw.strip())
                ) from None
            if number < 0:
                raise ValueError(messages.text("attribute_name_cannot_be_negative", name=name))
            attributes[name] = number
        else:
            attributes[name] = True
    return attributes


def _timezone(errors, line, row, column):
    value = row.get(column, "")
    if not value:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add(line, column, messages.text("value_is_not_an_iana_time", value=value))
        return None
    return value


# -- resources ----------------------------------------------------------------


def parse_resources(text: str | bytes) -> list[ResourceRow]:
    """Validate a resources file; every error at once, or the rows."""
    errors = _Errors()
    _, rows = _read(text, RESOURCE_COLUMNS, RESOURCE_REQUIRED, errors)
    parsed: list[ResourceRow] = []
    # The first line that defined each container, to check later rows agree.
    seen_sites: dict[str, tuple[int, tuple]] = {}
    seen_buildings: dict[tuple, tuple[int, tuple]] = {}
    seen_floors: dict[tuple, tuple[int, tuple]] = {}
    seen_zones: dict[tuple, tuple[int, tuple]] = {}
    seen_resources: dict[tuple, int] = {}

    for line, row in rows:
        before = len(errors.items)
        site_code = _required_code(errors, line, row, "site_code")
        site_name = _text(errors, line, row, "site_name", required=True)
        site_timezone = _timezone(errors, line, row, "site_timezone")
        site_address = _text(errors, line, row, "site_address", limit=500)
        building_code = _required_code(errors, line, row, "building_code")
        building_name = _text(errors, line, row, "building_name", required=True)
        floor_code = _required_code(errors, line, row, "floor_code")
        floor_name = _text(errors, line, row, "floor_name", required=True)
        floor_level = _integer(errors, line, row, "floor_level", minimum=-20, maximum=200)
        zone_code = _required_code(errors, line, row, "zone_code")
        zone_name = _text(errors, line, row, "zone_name", required=True)
        zone_team_code = _optional_code(errors, line, row, "zone_team_code")
        kind = row.get("kind", "").lower()
        if not kind:
            errors.add(line, "kind", messages.text("kind_is_required_desk_room_or"))
        elif kind not in RESOURCE_KINDS:
            errors.add(line, "kind",
                       messages.text("unknown_kind_kind_use_desk_room", kind=row['kind']))
        code = _required_code(errors, line, row, "code")
        name = _text(errors, line, row, "name", required=True)
        capacity = _integer(
            errors, line, row, "capacity", default=1, minimum=1, maximum=MAX_CAPACITY
        )
        attributes: dict | None = {}
        if row.get("attributes"):
            try:
                attributes = parse_attributes(row["attributes"])
            except ValueError as exc:
                errors.add(line, "attributes", str(exc))
                attributes = None
        restricted = _code_list(errors, line, row, "restricted_team_codes")
        x = _number(errors, line, row, "x")
        y = _number(errors, line, row, "y")
        if (row.get("x", "") == "") != (row.get("y", "") == ""):
            missing = "y" if row.get("x") else "x"
            errors.add(line, missing, messages.text("give_both_x_and_y_or"))
        if len(errors.items) > before:
            continue

        _agree(errors, seen_sites, site_code, line,
               {"site_name": site_name, "site_timezone": site_timezone,
                "site_address": site_address}, "site")
        building_key = (site_code, building_code)
        _agree(errors, seen_buildings, building_key, line,
               {"building_name": building_name}, "building")
        floor_key = building_key + (floor_code,)
        _agree(errors, seen_floors, floor_key, line,
               {"floor_name": floor_name, "floor_level": floor_level}, "floor")
        zone_key = floor_key + (zone_code,)
        _agree(errors, seen_zones, zone_key, line,
               {"zone_name": zone_name, "zone_team_code": zone_team_code}, "zone")
        resource_key = (site_code, code)
        if resource_key in seen_resources:
            errors.add(
                line,
                "code",
                messages.text("code_code_is_already_used_in", code=code, site_code=site_code,
                              first_line=seen_resources[resource_key]),
            )
            continue
        seen_resources[resource_key] = line
        parsed.append(
            ResourceRow(
                line=line,
                site_code=site_code,
                site_name=site_name,
                site_timezone=site_timezone,
                site_address=site_address,
                building_code=building_code,
                building_name=building_name,
                floor_code=floor_code,
                floor_name=floor_name,
                floor_level=floor_level,
                zone_code=zone_code,
                zone_name=zone_name,
                zone_team_code=zone_team_code,
                kind=kind,
                code=code,
                name=name,
                capacity=capacity,
                attributes=attributes,
                restricted_team_codes=restricted,
                x=x,
                y=y,
            )
        )
    errors.raise_if_any()
    return parsed


def _agree(errors: _Errors, seen: dict, key, line: int, values: dict, what: str) -> None:
    """Rows naming the same container must describe it the same way.

    Optional columns left blank on later rows are not a disagreement.
    """
    if key not in seen:
        seen[key] = (line, values)
        return
    first_line, first = seen[key]
    for column, value in values.items():
        if value is None and column.endswith(("_timezone", "_address", "_team_code")):
            continue
        if first[column] is None and column.endswith(("_timezone", "_address", "_team_code")):
            first[column] = value
            continue
        if value != first[column]:
            code = key if isinstance(key, str) else key[-1]
            errors.add(
                line,
                column,
                messages.text("the_what_code_has_column_first", what=what, code=code,
                              column=column, first_value=first[column], first_line=first_line,
                              value=value),
            )


# -- people -------------------------------------------------------------------


def parse_people(text: str | bytes) -> list[PersonRow]:
    """Validate a people file; every error at once, or the rows."""
    errors = _Errors()
    columns, rows = _read(text, PEOPLE_COLUMNS, PEOPLE_REQUIRED, errors)
    has_teams = "team_codes" in columns
    parsed: list[PersonRow] = []
    seen_emails: dict[str, int] = {}
    team_names: dict[str, tuple[int, str]] = {}

    for line, row in rows:
        before = len(errors.items)
        email = _text(errors, line, row, "email", required=True, limit=254)
        if email is not None:
            if not EMAIL_RE.match(email):
                errors.add(line, "email", messages.text("email_is_not_an_e_mail", email=email))
                email = None
            else:
                email = email.lower()
        given = _text(errors, line, row, "given_name", required=True)
        family = _text(errors, line, row, "family_name", required=True)
        display = _text(errors, line, row, "display_name")
        department = _text(errors, line, row, "department") or ""
        job_title = _text(errors, line, row, "job_title") or ""
        phone = row.get("phone_extension", "")
        if phone and not PHONE_RE.match(phone):
            errors.add(
                line,
                "phone_extension",
                messages.text("phone_is_not_a_phone_number", phone=phone),
            )
        language = row.get("language", "").lower() or "fr"
        if language not in LANGUAGES:
            errors.add(line, "language",
                       messages.text("unknown_language_language_use_fr_or",
                                     language=row['language']))

        teams = None
        if has_teams:
            codes = _code_list(errors, line, row, "team_codes")
            names_raw = row.get("team_names", "")
            names: list[str | None] = [None] * len(codes or ())
            if names_raw and codes is not None:
                given_names = [part.strip() for part in names_raw.split("|")]
                if len(given_names) != len(codes):
                    errors.add(
                        line,
                        "team_names",
                        messages.text("names_team_name_s_for_codes", names=len(given_names),
                                      codes=len(codes)),
                    )
                elif any(not n or len(n) > MAX_TEXT for n in given_names):
                    errors.add(line, "team_names", messages.text("a_team_name_is_empty_or"))
                else:
                    names = given_names
            elif names_raw:
                pass  # the codes are already reported
            if codes is not None:
                for code, team_name in zip(codes, names):
                    if team_name is None:
                        continue
                    if code in team_names and team_names[code][1] != team_name:
                        first_line, first_name = team_names[code]
                        errors.add(
                            line,
                            "team_names",
                            messages.text("team_code_is_named_first_name", code=code,
                                          first_name=first_name, first_line=first_line,
                                          team_name=team_name),
                        )
                    team_names.setdefault(code, (line, team_name))
                teams = tuple(zip(codes, names))
        if len(errors.items) > before:
            continue
        if email in seen_emails:
            errors.add(
                line, "email", messages.text("email_is_already_on_line_first", email=email,
                                             first_line=seen_emails[email])
            )
            continue
        seen_emails[email] = line
        parsed.append(
            PersonRow(
                line=line,
                email=email,
                given_name=given,
                family_name=family,
                display_name=display or f"{given} {family}",
                department=department,
                job_title=job_title,
                phone_extension=phone,
                language=language,
                teams=teams,
            )
        )
    errors.raise_if_any()
    # A team named on one line and only coded on another takes that name.
    return [
        _with_team_names(p, team_names) if p.teams else p for p in parsed
    ]


def _with_team_names(person: PersonRow, names: dict[str, tuple[int, str]]) -> PersonRow:
    from dataclasses import replace

    teams = tuple((code, name if name is not None else names.get(code, (0, None))[1])
                  for code, name in person.teams)
    return replace(person, teams=teams)
