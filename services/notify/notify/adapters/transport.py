"""What a transport (SMTP, a chat backend) may report when it cannot send."""

from __future__ import annotations


class DeliveryFailed(Exception):
    """The message did not leave. ``permanent``: retrying cannot help (dead-letter now)."""

    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Skip(Exception):
    """Nothing to send this way (no chat backend, no chat account for the person)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
