"""Start Escale processes for tests as the operator would: real commands,
configured only through environment variables, stopped at the end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .servers import REDIS_URL, free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOGS = ROOT / "test-artifacts" / "logs"


def escale_command() -> list[str]:
    script = BIN / "escale"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "escale_cli.main"]


def run_escale(env: dict, *args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The ``escale`` command as an operator runs it: a process, configured by ``env``."""
    return subprocess.run([*escale_command(), *args], cwd=ROOT, env={**os.environ, **env}, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


class Process:
    """A child process with its log file and a health URL."""

    def __init__(self, name: str, argv: list[str], env: dict, health_url: str):
        self.name = name
        self.argv = argv
        self.env = env
        self.health_url = health_url
        self.proc: subprocess.Popen | None = None
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"{name}.log"

    def start(self, timeout: float = 30) -> "Process":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.argv, env={**os.environ, **self.env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log_path}")
            try:
                if httpx.get(self.health_url, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout}s; see {self.log_path}")

    def stop(self, sig=signal.SIGTERM, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


def booking_process(amqp_uri: str, database_url: str, **extra_env) -> Process:
    port = free_port()
    env = {
        "ESCALE_AMQP_URI": amqp_uri,
        "ESCALE_BOOKING_DATABASE_URL": database_url,
        "ESCALE_BOOKING_HTTP": f"127.0.0.1:{port}",
        "ESCALE_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    return Process(
        f"booking-{port}",
        [str(BIN / "nameko"), "run", "booking.service", "--config", "services/booking/config.yaml"],
        env,
        f"http://127.0.0.1:{port}/readyz",
    )


def gateway_process(amqp_uri: str, gateway_db_url: str, **extra_env) -> Process:
    port = free_port()
    env = {
        "ESCALE_AMQP_URI": amqp_uri,
        "ESCALE_GATEWAY_DATABASE_URL": gateway_db_url,
        "ESCALE_GATEWAY_HOST": "127.0.0.1",
        "ESCALE_GATEWAY_PORT": str(port),
        "ESCALE_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    process = Process(f"gateway-{port}", [str(BIN / "python"), "-m", "gateway"], env,
                      f"http://127.0.0.1:{port}/readyz")
    process.url = f"http://127.0.0.1:{port}"
    return process


@pytest.fixture(scope="session")
def booking_service(amqp_uri, booking_db_url):
    """The real booking service, running against this run's database and vhost."""
    # A pool of 10, not production's 20: PostgreSQL's 100 connections are shared
    # by every install the suite runs at once.
    process = booking_process(amqp_uri, booking_db_url, ESCALE_BOOKING_DB_POOL="10").start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def gateway(amqp_uri, gateway_db_url, booking_service, presence_redis_prefix):
    """The real gateway in front of the real booking service (and of presence's
    read model under this run's Redis prefix, for tests that start presence)."""
    process = gateway_process(amqp_uri, gateway_db_url, ESCALE_REDIS_URL=REDIS_URL,
                              ESCALE_PRESENCE_REDIS_PREFIX=presence_redis_prefix).start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def issue(gateway_db_url):
    """Issue an API token: ``issue(email, role, person_id=..., site_ids=...)``."""
    from gateway.adapters.tokens import issue_token

    def make(email, role="agent", person_id=None, **kw):
        return issue_token(gateway_db_url, email=email, role=role, person_id=person_id, **kw)

    return make
