"""No chat: chat messages are recorded as skipped."""

from __future__ import annotations

from ..transport import Skip


class NoChat:
    platform = None
    enabled = False

    def __init__(self, settings=None, rooms=None):
        pass

    def address(self, recipient: dict):
        raise Skip("no_chat_backend")

    def send(self, recipient: dict, message: dict, delivery_id: str) -> None:
        raise Skip("no_chat_backend")
