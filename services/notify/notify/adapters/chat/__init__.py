"""Chat backends as plugins, chosen by ``ESCALE_CHAT_BACKEND``.

``none`` sends nothing; ``matrix`` (Tchap is Matrix) writes to a direct
room with the person; ``webhook`` posts to a Mattermost, Rocket.Chat or
Slack incoming webhook; ``teams`` posts an Adaptive Card to a Teams
Workflows webhook. ``ESCALE_CHAT_DRY_RUN=1`` logs what would be sent (ids
only) instead of sending, whatever the backend.

Every backend has ``send(recipient, message, delivery_id)`` where
``recipient`` is ``{"person_id", "email", "identity": {"external_id",
"handle"} | None}``. Under eventlet they use ``requests``, which
cooperates; the asyncio matrix-nio client is for the bot process.
"""

from __future__ import annotations

import importlib
import logging

from ...settings import Chat

log = logging.getLogger(__name__)

PLUGINS = {
    "none": "notify.adapters.chat.none:NoChat",
    "matrix": "notify.adapters.chat.matrix:MatrixChat",
    "webhook": "notify.adapters.chat.webhook:WebhookChat",
    "teams": "notify.adapters.chat.teams:TeamsChat",
}


def load(settings: Chat, rooms=None):
    """The configured backend. ``rooms`` stores Matrix direct rooms (the store)."""
    module_name, _, class_name = PLUGINS[settings.backend].partition(":")
    backend_class = getattr(importlib.import_module(module_name), class_name)
    return backend_class(settings, rooms)


class DryRun:
    """Wraps a backend: says what it would send, sends nothing."""

    def __init__(self, backend):
        self.backend = backend
        self.platform = backend.platform
        self.enabled = backend.enabled

    def send(self, recipient: dict, message: dict, delivery_id: str) -> None:
        self.backend.address(recipient)  # the same skips as for real
        log.info("chat (dry run)", extra={"delivery_id": delivery_id, "backend": self.platform,
                                          "person_id": recipient.get("person_id")})
