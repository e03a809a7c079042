"""Incoming webhooks of Mattermost, Rocket.Chat and Slack.

Mattermost and Rocket.Chat accept a ``channel`` override: ``@handle``
sends a direct message from the webhook's bot (Mattermost needs "Enable
integrations to override usernames/channels"). A Slack incoming webhook
posts to its own channel only, so the message mentions the person there
(``<@U123>``): give Slack a channel people accept such notices in.
"""

from __future__ import annotations

import requests

from ...settings import Chat
from ..transport import Skip
from .http import post_json


class WebhookChat:
    enabled = True

    def __init__(self, settings: Chat, rooms=None):
        self.settings = settings
        self.flavour = settings.webhook_flavour
        self.platform = self.flavour
        self.session = requests.Session()

    def address(self, recipient: dict) -> str:
        identity = recipient.get("identity") or {}
        if self.flavour == "slack":
            if not identity.get("external_id"):
                raise Skip("no_chat_identity")
            return identity["external_id"]
        if not identity.get("handle"):
            raise Skip("no_chat_identity")
        return identity["handle"]

    def body(self, recipient: dict, message: dict) -> dict:
        who = self.address(recipient)
        if self.flavour == "slack":
            return {"text": f"<@{who}> {message['text']}"}
        return {"text": message["text"], "channel": f"@{who}"}

    def send(self, recipient: dict, message: dict, delivery_id: str) -> None:
        post_json(self.session, self.settings.webhook_url, self.body(recipient, message),
                  self.settings.timeout)
