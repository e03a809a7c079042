"""deploy/k8s/make-secret.sh builds the Secret the manifests reference.

No cluster here: the script runs against a stand-in `kubectl` (named by the
KUBECTL variable the script honours) that serves the operators' Secrets from
a JSON file and records what `kubectl apply` receives. The checks: the Secret
has exactly the keys the Deployments and Jobs read, its URLs name the
Services the operators create, a second run keeps the Redis password, and a
password that would break a URL is refused.

Marked ``unit``: no server, no network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.deploy.contract import SECRET_KEYS, SECRET_NAME

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "k8s" / "make-secret.sh"
NAMESPACE = "escale-test"

FAKE_KUBECTL = textwrap.dedent('''\
    import base64, json, os, sys
    import yaml

    state_path = os.environ["FAKE_KUBECTL_STATE"]
    with open(state_path) as f:
        state = json.load(f)
    args = sys.argv[1:]
    assert args[:2] == ["-n", os.environ["FAKE_KUBECTL_NAMESPACE"]], args
    args = args[2:]

    def b64(value):
        return base64.b64encode(value.encode()).decode()

    if args[:2] == ["get", "secret"]:
        name = args[2]
        if name not in state:
            print(f'Error from server (NotFound): secrets "{name}" not found', file=sys.stderr)
            sys.exit(1)
        if "-o" in args:
            key = args[args.index("-o") + 1].removeprefix("jsonpath={.data.").removesuffix("}")
            value = state[name].get(key)
            if value is not None:
                sys.stdout.write(b64(value))
        sys.exit(0)
    if args[:3] == ["create", "secret", "generic"]:
        assert "--dry-run=client" in args and args[args.index("-o") + 1] == "yaml", args
        (env_file,) = [a.split("=", 1)[1] for a in args if a.startswith("--from-env-file=")]
        assert os.stat(env_file).st_mode & 0o077 == 0, "the env file is readable by others"
        data = {}
        for line in open(env_file):
            key, _, value = line.rstrip("\\n").partition("=")
            data[key] = b64(value)
        yaml.safe_dump({"apiVersion": "v1", "kind": "Secret",
                        "metadata": {"name": args[3]}, "data": data}, sys.stdout)
        sys.exit(0)
    if args[:2] == ["apply", "-f"] and args[2] == "-":
        secret = yaml.safe_load(sys.stdin)
        state[secret["metadata"]["name"]] = {
            k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
        with open(state_path, "w") as f:
            json.dump(state, f)
        print(f'secret/{secret["metadata"]["name"]} configured')
        sys.exit(0)
    print("fake kubectl: unexpected call", args, file=sys.stderr)
    sys.exit(2)
''')

OPERATOR_SECRETS = {
    "escale-postgres-app": {"username": "escale", "password": "Pg0Secret0Generated0ByCnpg"},
    "escale-rabbitmq-default-user": {"username": "default_user_AbC-12",
                                     "password": "Mq_Secret-Generated_42"},
}


@pytest.fixture
def cluster(tmp_path):
    """A stand-in kubectl and the state it serves; returns (run, state_path)."""
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(f"#!{sys.executable}\n{FAKE_KUBECTL}")
    kubectl.chmod(0o755)
    state = tmp_path / "state.json"
    state.write_text(json.dumps(OPERATOR_SECRETS))

    def run(**extra_env):
        env = {**os.environ, "KUBECTL": str(kubectl), "FAKE_KUBECTL_STATE": str(state),
               "FAKE_KUBECTL_NAMESPACE": NAMESPACE, **extra_env}
        return subprocess.run(["sh", str(SCRIPT), NAMESPACE], env=env, capture_output=True,
                              text=True, timeout=60, check=False)

    return run, state


def written(state: Path) -> dict:
    return json.loads(state.read_text())[SECRET_NAME]


def test_the_secret_has_every_key_the_manifests_read_and_points_at_the_operator_services(cluster):
    run, state = cluster
    proc = run()
    assert proc.returncode == 0, proc.stderr
    secret = written(state)
    assert set(secret) == SECRET_KEYS

    pg = OPERATOR_SECRETS["escale-postgres-app"]
    for key, database in (("ESCALE_BOOKING_DATABASE_URL", "escale_booking"),
                          ("ESCALE_GATEWAY_DATABASE_URL", "escale_gateway")):
        url = urlsplit(secret[key])
        assert url.scheme == "postgresql"
        assert (url.username, url.password) == (pg["username"], pg["password"])
        # CloudNativePG's read-write Service for Cluster/escale-postgres.
        assert (url.hostname, url.port, url.path) == ("escale-postgres-rw", 5432, f"/{database}")

    mq = OPERATOR_SECRETS["escale-rabbitmq-default-user"]
    amqp = urlsplit(secret["ESCALE_AMQP_URI"])
    assert (amqp.scheme, amqp.username, amqp.password) == ("amqp", mq["username"], mq["password"])
    # The RabbitMQ operator's client Service is named after the cluster.
    assert (amqp.hostname, amqp.port) == ("escale-rabbitmq", 5672)

    redis = urlsplit(secret["ESCALE_REDIS_URL"])
    assert (redis.hostname, redis.port) == ("escale-redis", 6379)
    assert redis.password == secret["REDIS_PASSWORD"]
    assert len(secret["REDIS_PASSWORD"]) >= 32 and secret["REDIS_PASSWORD"].isalnum()


def test_a_second_run_keeps_the_redis_password(cluster):
    run, state = cluster
    assert run().returncode == 0
    first = written(state)["REDIS_PASSWORD"]
    assert run().returncode == 0
    assert written(state)["REDIS_PASSWORD"] == first


def test_a_password_that_would_break_a_url_is_refused(cluster):
    run, state = cluster
    data = json.loads(state.read_text())
    data["escale-postgres-app"]["password"] = "p@ss/word"
    state.write_text(json.dumps(data))
    proc = run()
    assert proc.returncode != 0
    assert "PostgreSQL password" in proc.stderr and "URL" in proc.stderr
    assert SECRET_NAME not in json.loads(state.read_text())


def test_it_says_which_operator_secret_is_missing(cluster):
    run, state = cluster
    state.write_text(json.dumps({"escale-postgres-app": OPERATOR_SECRETS["escale-postgres-app"]}))
    proc = run(WAIT_SECONDS="0")
    assert proc.returncode != 0
    assert "escale-rabbitmq-default-user" in proc.stderr

