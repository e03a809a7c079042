"""The ``escale`` command, run as an operator runs it: a process, with env vars.

The command creates its own fresh databases here (``escale db upgrade``), so
the test also covers creating missing databases; they are dropped at the end.
"""

from __future__ import annotations

import hashlib
import re
import uuid

import psycopg
import pytest

from tests.support.processes import run_escale
from tests.support.servers import _db_url, create_database, drop_database

TOKEN_RE = re.compile(r"^esc_[A-Za-z0-9_-]{43}$")
AGENT = "agent.demo@mairie-exemple.fr"


def count(url: str, query: str, params=()) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchone()[0]


@pytest.fixture(scope="module")
def env(run_id):
    suffix = f"{run_id}_cli_{uuid.uuid4().hex[:6]}"
    names = (f"escale_test_{suffix}_booking", f"escale_test_{suffix}_gateway",
             f"escale_test_{suffix}_notify", f"escale_test_{suffix}_presence")
    for name in names:
        drop_database(name)
    environment = {
        "ESCALE_BOOKING_DATABASE_URL": _db_url(names[0]),
        "ESCALE_GATEWAY_DATABASE_URL": _db_url(names[1]),
        "ESCALE_NOTIFY_DATABASE_URL": _db_url(names[2]),
        "ESCALE_PRESENCE_DATABASE_URL": _db_url(names[3]),
    }
    yield environment
    for name in names:
        drop_database(name)


@pytest.fixture(scope="module")
def seeded(env):
    upgrade = run_escale(env, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    seed = run_escale(env, "demo", "seed")
    assert seed.returncode == 0, seed.stderr
    return env


@pytest.mark.integration
def test_db_upgrade_creates_both_databases_and_is_repeatable(env):
    first = run_escale(env, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "booking database" in first.stdout and "gateway database" in first.stdout
    again = run_escale(env, "db", "upgrade")
    assert again.returncode == 0, again.stderr
    assert "notify database" in first.stdout and "presence database" in first.stdout
    assert again.stdout.count("0 migration(s) applied") == len(env)
    assert count(env["ESCALE_GATEWAY_DATABASE_URL"], "SELECT count(*) FROM api_token") == 0


@pytest.mark.integration
def test_demo_seed_is_idempotent(seeded):
    url = seeded["ESCALE_BOOKING_DATABASE_URL"]
    assert 110 <= count(url, "SELECT count(*) FROM resource WHERE kind = 'desk'") <= 130
    assert 10 <= count(url, "SELECT count(*) FROM resource WHERE kind = 'room'") <= 14
    assert 380 <= count(url, "SELECT count(*) FROM person") <= 420
    assert count(url, "SELECT count(*) FROM floor") == 3
    events = count(url, "SELECT count(*) FROM outbox")
    again = run_escale(seeded, "demo", "seed")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("0 created, 0 updated") == 2
    assert count(url, "SELECT count(*) FROM outbox") == events


@pytest.mark.integration
def test_token_create_prints_only_the_token_and_stores_its_hash(seeded):
    result = run_escale(seeded, "token", "create", "--email", AGENT, "--role", "agent",
                        "--label", "test")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1
    token = result.stdout.strip()
    assert TOKEN_RE.match(token)
    person_id = count(
        seeded["ESCALE_BOOKING_DATABASE_URL"], "SELECT id FROM person WHERE email = %s", (AGENT,)
    )
    with psycopg.connect(seeded["ESCALE_GATEWAY_DATABASE_URL"]) as conn:
        row = conn.execute(
            "SELECT email, role, person_id, label FROM api_token WHERE token_hash = %s",
            (hashlib.sha256(token.encode()).digest(),),
        ).fetchone()
        dump = conn.execute("SELECT string_agg(t::text, ' ') FROM api_token t").fetchone()[0]
    assert row == (AGENT, "agent", person_id, "test")
    assert token not in dump and token[4:] not in dump  # never the token itself


@pytest.mark.integration
def test_token_create_for_site_admin_and_device_resolves_codes(seeded):
    admin = run_escale(seeded, "token", "create", "--email", "admin.demo@mairie-exemple.fr",
                       "--role", "site_admin", "--site", "hdv")
    assert admin.returncode == 0, admin.stderr
    tablet = run_escale(seeded, "token", "create", "--email", "tablette.seine@mairie-exemple.fr",
                        "--role", "device", "--room", "SALLE-SEINE")
    assert tablet.returncode == 0, tablet.stderr
    booking, gateway = (seeded["ESCALE_BOOKING_DATABASE_URL"],
                        seeded["ESCALE_GATEWAY_DATABASE_URL"])
    site_id = count(booking, "SELECT id FROM site WHERE code = 'hdv'")
    room_id = count(booking, "SELECT id FROM resource WHERE code = 'SALLE-SEINE'")
    with psycopg.connect(gateway) as conn:
        hashes = [hashlib.sha256(r.stdout.strip().encode()).digest() for r in (admin, tablet)]
        assert conn.execute(
            "SELECT site_ids, person_id IS NOT NULL FROM api_token WHERE token_hash = %s",
            (hashes[0],),
        ).fetchone() == ([site_id], True)
        assert conn.execute(
            "SELECT room_id, person_id FROM api_token WHERE token_hash = %s", (hashes[1],)
        ).fetchone() == (room_id, None)


@pytest.mark.integration
def test_token_refusals_are_clear_and_issue_nothing(seeded):
    gateway = seeded["ESCALE_GATEWAY_DATABASE_URL"]
    before = count(gateway, "SELECT count(*) FROM api_token")
    cases = [
        (("--email", "personne@mairie-exemple.fr", "--role", "agent"), 1, "No person"),
        (("--email", AGENT, "--role", "site_admin"), 1, "--site"),
        (("--email", AGENT, "--role", "site_admin", "--site", "nowhere"), 1, "No site"),
        (("--email", "t@mairie-exemple.fr", "--role", "device", "--room", "EC-01"), 1, "not a room"),
        (("--email", AGENT, "--role", "emperor"), 2, "invalid choice"),
    ]
    for args, status, message in cases:
        result = run_escale(seeded, "token", "create", *args)
        assert result.returncode == status, (args, result.stderr)
        assert message in result.stderr
        assert result.stdout == "" and "Traceback" not in result.stderr
    assert count(gateway, "SELECT count(*) FROM api_token") == before


@pytest.mark.integration
def test_token_list_and_revoke(seeded):
    created = run_escale(seeded, "token", "create", "--email", AGENT, "--role", "agent",
                         "--label", "to revoke")
    token = created.stdout.strip()
    listing = run_escale(seeded, "token", "list")
    assert listing.returncode == 0 and token not in listing.stdout
    line = next(line for line in listing.stdout.splitlines() if line.endswith("to revoke"))
    token_id = line.split()[0]
    revoked = run_escale(seeded, "token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    assert count(
        seeded["ESCALE_GATEWAY_DATABASE_URL"],
        "SELECT count(*) FROM api_token WHERE id = %s AND revoked_at IS NOT NULL",
        (token_id,),
    ) == 1
    again = run_escale(seeded, "token", "revoke", token_id)
    assert again.returncode == 1 and "No live token" in again.stderr
    listing = run_escale(seeded, "token", "list")
    assert "revoked" in next(
        line for line in listing.stdout.splitlines() if line.startswith(token_id)
    )


HEADER = (
    "site_code;site_name;building_code;building_name;floor_code;floor_name;floor_level;"
    "zone_code;zone_name;kind;code;name;capacity;x;y"
)
TREE = "annexe;Annexe technique;at;Atelier;rdc;Rez-de-chaussée;0;atelier;Atelier"


@pytest.mark.integration
def test_import_of_a_bad_file_exits_1_naming_lines_and_imports_nothing(seeded, tmp_path):
    url = seeded["ESCALE_BOOKING_DATABASE_URL"]
    before = count(url, "SELECT count(*) FROM resource")
    bad = tmp_path / "ressources.csv"
    bad.write_text(
        "\ufeff" + "\n".join([HEADER, f"{TREE};desk;AT-01;Poste 1;1;10;10",
                              f"{TREE};chaise;AT-02;Poste 2;1;20;10",
                              f"{TREE};desk;AT-03;Poste 3;0;30;10"]) + "\n",
        encoding="utf-8",
    )
    result = run_escale(seeded, "import", "resources", str(bad))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "line 3, column kind:" in result.stderr
    assert "line 4, column capacity:" in result.stderr
    assert "nothing was imported" in result.stderr and "Traceback" not in result.stderr
    assert count(url, "SELECT count(*) FROM resource") == before

    good = tmp_path / "ressources-ok.csv"
    good.write_text("\n".join([HEADER, f"{TREE};desk;AT-01;Poste 1;1;10;10",
                               f"{TREE};equipment;AT-02;Perceuse;;;"]) + "\n", encoding="utf-8")
    result = run_escale(seeded, "import", "resources", str(good))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "resources: 6 created, 0 updated\n"
    assert count(url, "SELECT count(*) FROM resource") == before + 2


@pytest.mark.integration
def test_import_people_from_stdin_and_database_level_errors(seeded):
    url = seeded["ESCALE_BOOKING_DATABASE_URL"]
    people = ("email,given_name,family_name,team_codes\n"
              "Jean-Baptiste.Lefevre@mairie-exemple.fr,Jean-Baptiste,Lefèvre,dsi|com\n")
    result = run_escale(seeded, "import", "people", "-", stdin=people)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "people: 0 created, 1 updated\n"

    resources = HEADER + ";restricted_team_codes\n" + f"{TREE};desk;AT-09;Poste 9;1;1;1;cabinet\n"
    before = count(url, "SELECT count(*) FROM resource")
    result = run_escale(seeded, "import", "resources", "-", stdin=resources)
    assert result.returncode == 1
    assert "line 2, column restricted_team_codes:" in result.stderr
    assert count(url, "SELECT count(*) FROM resource") == before


@pytest.mark.integration
def test_missing_file_and_unreachable_database_are_one_line_errors(seeded, tmp_path):
    missing = run_escale(seeded, "import", "people", str(tmp_path / "absent.csv"))
    assert missing.returncode == 1 and "no such file" in missing.stderr
    closed = {**seeded, "ESCALE_BOOKING_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x"}
    result = run_escale(closed, "demo", "seed")
    assert result.returncode == 1
    assert result.stderr.startswith("escale: cannot use the database")
    assert "Traceback" not in result.stderr
    empty_name = f"escale_test_cli_empty_{uuid.uuid4().hex[:8]}"
    try:
        empty = create_database(empty_name)
        unmigrated = run_escale({**seeded, "ESCALE_BOOKING_DATABASE_URL": empty}, "demo", "seed")
    finally:
        drop_database(empty_name)
    assert unmigrated.returncode == 1 and "escale db upgrade" in unmigrated.stderr


@pytest.mark.unit
def test_bad_command_lines_exit_2(capsys):
    from escale_cli.main import main

    for argv in ([], ["token"], ["token", "create", "--role", "agent"], ["import", "rooms", "f"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
    assert "usage: escale" in capsys.readouterr().err
