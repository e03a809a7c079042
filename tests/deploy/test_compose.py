"""compose.yaml and the Dockerfiles, read as files (no Docker engine here).

What `docker compose up` relies on and no build here could show: every
long-running service has a health check and a restart policy, the start
order waits on health and on the migration job, every path an image or a
command names exists in the repository, the processes listen where the
health checks look, and no secret is written in a committed file.

Marked ``unit``: no server, no network; only the repository's files.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
ONE_SHOT = {"migrate"}
ESCALE = {"migrate", "booking", "gateway", "notify", "presence"}
DOCKERFILES = {
    "booking": REPO / "services/booking/Dockerfile",
    "gateway": REPO / "gateway/Dockerfile",
    "migrate": REPO / "cli/Dockerfile",
    "notify": REPO / "services/notify/Dockerfile",
    "presence": REPO / "services/presence/Dockerfile",
}
BOOKING_CONFIG = "/app/services/booking/config.yaml"
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


def documented_variables() -> set[str]:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    return set(re.findall(r"`(ESCALE_[A-Z0-9_]+)`", text))


def without_interpolation(value: str) -> str:
    """A compose value with each ${VAR...} replaced by a placeholder."""
    return INTERPOLATION.sub("x", value)


# --- Dockerfile reading -----------------------------------------------------------

def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined."""
    logical, current = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        logical.append((word.upper(), rest.strip()))
        current = ""
    return logical


def final_stage(path: Path) -> list[tuple[str, str]]:
    steps = instructions(path)
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def exec_form(arguments: str) -> list[str]:
    return json.loads(arguments)


# --- compose -------------------------------------------------------------------------

def test_compose_runs_the_stores_and_every_process():
    assert set(SERVICES) >= {"rabbitmq", "postgres", "redis", "migrate", "booking", "gateway",
                             "notify", "presence", "mailpit"}
    assert SERVICES["postgres"]["image"].startswith("postgres:15")


@pytest.mark.parametrize("name", sorted(set(SERVICES) - ONE_SHOT))
def test_every_long_running_service_has_a_healthcheck_and_restarts(name):
    service = SERVICES[name]
    check = service.get("healthcheck")
    assert check and check.get("test"), f"{name} has no healthcheck"
    assert not check.get("disable")
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert service.get("restart") in {"always", "unless-stopped", "on-failure"}, name


def test_the_migration_job_runs_once_and_seeds_the_demo():
    migrate = SERVICES["migrate"]
    assert migrate["restart"] == "no"
    command = " ".join(migrate["command"])
    assert "escale db upgrade && escale demo seed" in command
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["booking", "gateway", "notify", "presence"])
def test_processes_start_after_the_migration_and_a_healthy_broker(name):
    depends = SERVICES[name]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["rabbitmq"]["condition"] == "service_healthy"


def test_every_health_condition_waits_on_a_service_with_a_healthcheck():
    for name, service in SERVICES.items():
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], f"{name} -> {dependency}"
            if spec["condition"] == "service_completed_successfully":
                assert dependency in ONE_SHOT


@pytest.mark.parametrize("name", sorted(ESCALE))
def test_images_are_built_from_dockerfiles_in_the_repository(name):
    build = SERVICES[name]["build"]
    context = REPO / build["context"]
    assert context.resolve() == REPO, "the Dockerfiles copy the shared lock: context is the root"
    dockerfile = context / build["dockerfile"]
    assert dockerfile.is_file(), f"{build['dockerfile']} does not exist"
    assert dockerfile.resolve() == DOCKERFILES[name].resolve()


def test_bind_mounts_name_files_of_the_repository():
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"


def test_the_booking_command_names_a_config_file_that_exists_and_is_in_the_image():
    command = SERVICES["booking"]["command"]
    config = command[command.index("--config") + 1]
    assert config == BOOKING_CONFIG
    in_repo = REPO / config.removeprefix("/app/")
    assert in_repo.is_file(), f"{in_repo.relative_to(REPO)} does not exist"
    copies = [args.split() for word, args in final_stage(DOCKERFILES["booking"]) if word == "COPY"]
    assert [str(in_repo.relative_to(REPO)), config] in copies


@pytest.mark.parametrize("name", sorted(ESCALE))
def test_compose_runs_the_command_the_image_runs_by_default(name):
    (cmd,) = [args for word, args in final_stage(DOCKERFILES[name]) if word == "CMD"]
    if name in ONE_SHOT:
        assert exec_form(cmd) == ["escale", "--help"]
    else:
        assert SERVICES[name]["command"] == exec_form(cmd)


@pytest.mark.parametrize("name", sorted(ESCALE))
def test_escale_services_use_documented_variables_and_compose_host_names(name):
    environment = SERVICES[name]["environment"]
    assert set(environment) <= documented_variables()
    hosts = {
        "ESCALE_AMQP_URI": "rabbitmq",
        "ESCALE_BOOKING_DATABASE_URL": "postgres",
        "ESCALE_GATEWAY_DATABASE_URL": "postgres",
        "ESCALE_REDIS_URL": "redis",
        "ESCALE_NOTIFY_DATABASE_URL": "postgres",
        "ESCALE_PRESENCE_DATABASE_URL": "postgres",
    }
    for variable, host in hosts.items():
        url = urlsplit(without_interpolation(environment[variable]))
        assert url.hostname == host, f"{name}: {variable} points at {url.hostname}"
    databases = {"ESCALE_BOOKING_DATABASE_URL": "escale_booking",
                 "ESCALE_GATEWAY_DATABASE_URL": "escale_gateway",
                 "ESCALE_NOTIFY_DATABASE_URL": "escale_notify",
                 "ESCALE_PRESENCE_DATABASE_URL": "escale_presence"}
    for variable, database in databases.items():
        assert urlsplit(without_interpolation(environment[variable])).path == f"/{database}"


def test_processes_listen_on_every_interface_where_the_checks_look():
    booking = SERVICES["booking"]
    gateway = SERVICES["gateway"]
    assert booking["environment"]["ESCALE_BOOKING_HTTP"] == "0.0.0.0:8101"
    assert "127.0.0.1:8101/healthz" in " ".join(booking["healthcheck"]["test"])
    assert gateway["environment"]["ESCALE_GATEWAY_HOST"] == "0.0.0.0"
    assert str(gateway["environment"]["ESCALE_GATEWAY_PORT"]) == "8080"
    assert "127.0.0.1:8080/healthz" in " ".join(gateway["healthcheck"]["test"])
    assert any(str(p).endswith(":8080") for p in gateway["ports"])


def test_no_secret_is_written_in_compose_and_every_required_one_is_in_env_example():
    text = (REPO / "compose.yaml").read_text(encoding="utf-8")
    secrets = {
        "POSTGRES_PASSWORD": SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"],
        "RABBITMQ_DEFAULT_PASS": SERVICES["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_PASS"],
    }
    for key, value in secrets.items():
        match = INTERPOLATION.fullmatch(value)
        assert match and match.group(2) == ":?", f"{key} must come from .env and be required"
    for url in re.findall(r"(?:amqp|postgresql|redis)://\S+", text):
        credentials = urlsplit(url).netloc.rpartition("@")[0]
        password = credentials.partition(":")[2]
        assert not password or INTERPOLATION.fullmatch(password), f"literal password in {url}"
    required = {m.group(1) for m in INTERPOLATION.finditer(text) if m.group(2) == ":?"}
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
    assert required <= listed, f".env.example lacks {required - listed}"
    assert not re.search(r"^(POSTGRES_PASSWORD|RABBITMQ_PASSWORD)=\S", example, re.MULTILINE), (
        ".env.example must not ship a usable secret")


def test_postgres_creates_both_databases():
    assert SERVICES["postgres"]["environment"]["POSTGRES_DB"] == "escale_booking"
    (mount,) = [v for v in SERVICES["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    sql = (REPO / mount.split(":")[0]).read_text(encoding="utf-8")
    assert re.search(r"CREATE DATABASE escale_gateway\b", sql)
    assert re.search(r"CREATE DATABASE escale_notify\b", sql)
    assert re.search(r"CREATE DATABASE escale_presence\b", sql)


# --- Dockerfiles ---------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfiles_are_multi_stage_on_python_311_slim(name):
    steps = instructions(DOCKERFILES[name])
    froms = [args for word, args in steps if word == "FROM"]
    assert len(froms) >= 2, "multi-stage: build tools stay out of the image"
    base = [args for word, args in steps if word == "ARG" and args.startswith("PYTHON_IMAGE=")]
    assert base and base[0].split("=", 1)[1].startswith("python:3.11-slim")
    assert all(f.startswith("${PYTHON_IMAGE}") for f in froms)


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfiles_install_the_lock_with_hashes_and_wheels_only(name):
    runs = [args for word, args in instructions(DOCKERFILES[name]) if word == "RUN"]
    lock_installs = [r for r in runs if "-r requirements/lock.txt" in r]
    assert lock_installs, "the shared lock is installed"
    for run in lock_installs:
        words = shlex.split(run)
        assert "--require-hashes" in words and "--only-binary=:all:" in words
    own = [r for r in runs if "--no-deps" in r]
    assert own, "the project's packages are installed without resolving again"


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_images_run_as_a_numeric_non_root_user(name):
    users = [args for word, args in final_stage(DOCKERFILES[name]) if word == "USER"]
    assert users, "the final stage sets USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0, "numeric, so Kubernetes can verify runAsNonRoot"
    assert not gid or (gid.isdigit() and int(gid) != 0)


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfiles_carry_no_secret(name):
    for word, args in instructions(DOCKERFILES[name]):
        if word in {"ENV", "ARG"}:
            assert not re.search(r"(PASSWORD|SECRET|TOKEN|_KEY)\b", args.upper()), args
            assert not re.search(r"://[^/\s:]+:[^@\s]+@", args), f"credentials in {args}"


@pytest.mark.parametrize("name,port", [("booking", 8101), ("gateway", 8080), ("notify", 8103),
                                       ("presence", 8102)])
def test_server_images_expose_their_port_and_check_healthz(name, port):
    stage = final_stage(DOCKERFILES[name])
    assert ("EXPOSE", str(port)) in stage
    (check,) = [args for word, args in stage if word == "HEALTHCHECK"]
    assert "/healthz" in check and "python" in check and "urllib" in check
    env = " ".join(args for word, args in stage if word == "ENV")
    assert "0.0.0.0" in env, "listen on every interface inside the container"


def test_the_cli_image_is_a_job_without_healthcheck():
    stage = final_stage(DOCKERFILES["migrate"])
    assert ("HEALTHCHECK", "NONE") in stage


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_every_copied_path_exists_and_is_in_the_build_context(name):
    ignore = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*", ".dockerignore is an allow-list"
    allowed = [line[1:].rstrip("/") for line in ignore if line.startswith("!")]
    for word, args in instructions(DOCKERFILES[name]):
        if word != "COPY" or args.startswith("--from="):
            continue
        *sources, _destination = args.split()
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: not in the repository"
            assert any(source == a or source.startswith(a + "/") for a in allowed), (
                f"COPY {source}: excluded by .dockerignore")
