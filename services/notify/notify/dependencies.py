"""nameko dependency providers: the notify service's composition root.

Adapters are built once per container from the environment; workers get
narrow objects (the store, the transports, the clock, the policy), never a
raw connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from escale_common import nameko_language
from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Gauge

from .adapters import chat as chat_plugins
from .adapters.db import open_pool
from .adapters.mail import Mailer
from .adapters.store import NotifyStore
from .domain import error_messages
from .domain.planning import Sender
from .settings import Settings
from .usecases import Policy

MESSAGES = Counter("escale_notify_messages_total", "Message sends by outcome",
                   ["outcome"])
LEDGER = Gauge("escale_notify_ledger_messages", "Messages in the ledger by status", ["status"])


class Store(DependencyProvider):
    def setup(self):
        # Built in setup(), not start(): nameko starts every extension at once,
        # so a timer may run a worker before start() ends (as in booking).
        self.settings = Settings.from_env()
        self.pool = open_pool(self.settings.database_url, self.settings.db_pool_size)
        self.store = NotifyStore(self.pool)

    def stop(self):
        self.pool.close()

    def get_dependency(self, worker_ctx):
        return self.store


@dataclass(frozen=True)
class Transports:
    mailer: Mailer
    chat: object
    sender: Sender
    policy: Policy
    zone: str = "Europe/Paris"
    public_url: str | None = None   # where Escale is served (links to the web app)

    @property
    def chat_enabled(self) -> bool:
        return bool(self.chat.enabled)


class Outside(DependencyProvider):
    """SMTP, the chat backend and the sending policy, built from the settings."""

    def setup(self):
        # Built in setup(), not start(): nameko starts every extension at once,
        # so a timer may run a worker before start() ends (as for Store).
        self.settings = s = Settings.from_env()
        store = NotifyStore(open_pool(s.database_url, 2))
        self._rooms_pool = store.pool
        chat = chat_plugins.load(s.chat, rooms=store)
        if s.chat.dry_run and s.chat.backend != "none":
            chat = chat_plugins.DryRun(chat)
        self.transports = Transports(
            mailer=Mailer(s.smtp),
            chat=chat,
            sender=Sender.parse(s.smtp.sender),
            policy=Policy(max_attempts=s.max_attempts, retry_base=s.retry_base,
                          retry_cap=s.retry_cap, batch=s.batch,
                          lease=timedelta(seconds=max(60.0, 3 * s.smtp.timeout)),
                          warning_lead_minutes=s.no_show_warning_minutes),
            public_url=s.public_url or None,
        )

    def stop(self):
        self._rooms_pool.close()

    def get_dependency(self, worker_ctx):
        return self.transports


class Clock(DependencyProvider):
    """The current time, aware; one place to change it in tests."""

    def get_dependency(self, worker_ctx):
        return lambda: datetime.now(timezone.utc)


class CallerLanguage(nameko_language.CallerLanguage):
    """The caller's language current for the worker (errors worded in it)."""

    catalogue = error_messages.CATALOGUE