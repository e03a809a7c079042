"""Fixtures of the notify service's tests: a real SMTP server, the notify
database and process, a real Matrix homeserver (Synapse) and the Matrix bot.

* ``smtp_server``: aiosmtpd on a free loopback port, collecting every
  message; ``down()``/``up()`` stop and restart it on the same port.
* ``notify_db_url``: a migrated notify database of this run's own.
* ``notify_service``: ``nameko run notify.service`` against the run's vhost
  and databases, sending to ``smtp_server`` with fast retries (0.2 s
  ticks, three attempts).
* ``synapse``: Synapse from PyPI, SQLite, loopback only, registration by
  shared secret only; ``synapse.register(name)`` makes a user.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml

from .processes import BIN, LOGS, ROOT, Process
from .servers import create_database, drop_database, free_port


# --- SMTP -----------------------------------------------------------------------------


class SmtpSink:
    """A real SMTP server (aiosmtpd) keeping what it receives."""

    def __init__(self):
        self.port = free_port()
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._controller = None

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def up(self) -> None:
        from aiosmtpd.controller import Controller

        if self._controller is None:
            self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpSink":
        self.up()
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in str(m["To"])]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{len(self.to(address))} message(s) to {address} after {timeout}s, "
                             f"expected {count}")


@pytest.fixture(scope="session")
def smtp_server():
    with SmtpSink() as sink:
        yield sink


# --- the notify database and process ----------------------------------------------------------


@pytest.fixture(scope="session")
def notify_db_url(run_id):
    """A migrated, empty notify database of this run's own."""
    from notify.adapters.migrate import upgrade

    name = f"escale_test_{run_id}_notify"
    url = create_database(name)
    upgrade(url)
    yield url
    drop_database(name)


def notify_process(amqp_uri: str, database_url: str, smtp_port: int, **extra_env) -> Process:
    port = free_port()
    env = {
        "ESCALE_AMQP_URI": amqp_uri,
        "ESCALE_NOTIFY_DATABASE_URL": database_url,
        "ESCALE_NOTIFY_HTTP": f"127.0.0.1:{port}",
        "ESCALE_SMTP_HOST": "127.0.0.1",
        "ESCALE_SMTP_PORT": str(smtp_port),
        "ESCALE_SMTP_TIMEOUT": "3",
        "ESCALE_SMTP_FROM": "Escale <escale@mairie-test.fr>",
        "ESCALE_NOTIFY_TICK": "0.2",
        "ESCALE_NOTIFY_RETRY_BASE": "0.2",
        "ESCALE_NOTIFY_MAX_ATTEMPTS": "3",
        "ESCALE_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    process = Process(
        f"notify-{port}",
        [str(BIN / "nameko"), "run", "notify.service", "--config", "services/notify/config.yaml"],
        env,
        f"http://127.0.0.1:{port}/readyz",
    )
    process.url = f"http://127.0.0.1:{port}"
    return process


@pytest.fixture(scope="session")
def notify_service(amqp_uri, notify_db_url, smtp_server, booking_service):
    """The real notify service; started after booking, before any test books."""
    process = notify_process(amqp_uri, notify_db_url, smtp_server.port).start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def notify_rpc(amqp_uri, notify_service):
    """A nameko RPC proxy to the notify service (``notify_rpc.bot_answer(...)``)."""
    from nameko.standalone.rpc import ServiceRpcProxy

    with ServiceRpcProxy("notify", {"AMQP_URI": amqp_uri}, timeout=15) as proxy:
        yield proxy


ADMIN = {"person_id": None, "role": "admin", "site_ids": [], "room_id": None}


# --- Synapse ----------------------------------------------------------------------------------


class Synapse:
    """A Matrix homeserver on loopback, SQLite, no federation."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.server_name = "escale.test"
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = os.urandom(16).hex()
        self.proc: subprocess.Popen | None = None
        self.log_path = LOGS / f"synapse-{self.port}.log"

    def configure(self) -> Path:
        config = self.directory / "homeserver.yaml"
        subprocess.run(
            [sys.executable, "-m", "synapse.app.homeserver", "--server-name", self.server_name,
             "--config-path", str(config), "--data-directory", str(self.directory),
             "--generate-config", "--report-stats=no"],
            check=True, capture_output=True, timeout=120, cwd=self.directory,
        )
        data = yaml.safe_load(config.read_text())
        data["listeners"] = [{
            "port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
            "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}],
        }]
        data["trusted_key_servers"] = []
        data["suppress_key_server_warning"] = True
        data["registration_shared_secret"] = self.secret
        data["enable_registration"] = False
        data["report_stats"] = False
        data["federation_domain_whitelist"] = []
        data["presence"] = {"enabled": False}
        data["url_preview_enabled"] = False
        # The tests send a few messages a second from one address.
        data["rc_message"] = {"per_second": 100, "burst_count": 1000}
        data["rc_login"] = {"address": {"per_second": 100, "burst_count": 1000},
                            "account": {"per_second": 100, "burst_count": 1000},
                            "failed_attempts": {"per_second": 100, "burst_count": 1000}}
        data["rc_joins"] = {"local": {"per_second": 100, "burst_count": 1000}}
        data["rc_invites"] = {"per_room": {"per_second": 100, "burst_count": 1000},
                              "per_user": {"per_second": 100, "burst_count": 1000}}
        log_config = self.directory / "log.yaml"
        log_config.write_text(yaml.safe_dump({
            "version": 1,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
            "handlers": {"file": {"class": "logging.FileHandler", "filename": str(self.log_path),
                                  "formatter": "plain"}},
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }))
        data["log_config"] = str(log_config)
        config.write_text(yaml.safe_dump(data))
        return config

    def start(self, timeout: float = 60) -> "Synapse":
        LOGS.mkdir(parents=True, exist_ok=True)
        config = self.configure()
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "--config-path", str(config)],
            cwd=self.directory, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Synapse exited early; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Synapse not ready after {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            import signal

            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    def register(self, localpart: str, password: str = "secret-password", admin: bool = False) -> dict:
        """A new user, registered with the shared secret (the admin API)."""
        url = f"{self.url}/_synapse/admin/v1/register"
        nonce = httpx.get(url, timeout=10).json()["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        response = httpx.post(url, json={
            "nonce": nonce, "username": localpart, "password": password, "admin": admin,
            "mac": mac.hexdigest(),
        }, timeout=30)
        response.raise_for_status()
        body = response.json()
        return {"user_id": body["user_id"], "access_token": body["access_token"],
                "password": password}


@pytest.fixture(scope="session")
def synapse(tmp_path_factory):
    server = Synapse(tmp_path_factory.mktemp("synapse")).start()
    yield server
    server.stop()


def matrix_bot_process(amqp_uri: str, homeserver: str, user_id: str, password: str,
                       **extra_env) -> Process:
    port = free_port()
    env = {
        "ESCALE_AMQP_URI": amqp_uri,
        "ESCALE_MATRIX_HOMESERVER": homeserver,
        "ESCALE_MATRIX_USER_ID": user_id,
        "ESCALE_MATRIX_PASSWORD": password,
        "ESCALE_MATRIX_BOT_HTTP": f"127.0.0.1:{port}",
        "ESCALE_LOG_LEVEL": "INFO",
        **extra_env,
    }
    return Process(f"matrix-bot-{port}", [str(BIN / "python"), "-m", "notify.matrix_bot"], env,
                   f"http://127.0.0.1:{port}/readyz")


__all__ = ["ADMIN", "ROOT", "SmtpSink", "Synapse", "matrix_bot_process", "notify_process"]
