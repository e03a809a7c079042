"""Microsoft Teams through a Workflows webhook ("When a Teams webhook
request is received"), the replacement of Office 365 connectors.

The body is the message shape the Workflows templates read (an Adaptive
Card in ``attachments``) plus ``recipient``, the person's email: a flow
"Post card in a chat or channel" posts it to that person in a chat with
the Workflows bot (set Recipient to ``triggerBody()?['recipient']``).
"""

from __future__ import annotations

import requests

from ...settings import Chat
from ..transport import Skip
from .http import post_json


class TeamsChat:
    platform = "teams"
    enabled = True

    def __init__(self, settings: Chat, rooms=None):
        self.settings = settings
        self.session = requests.Session()

    def address(self, recipient: dict) -> str:
        if not recipient.get("email"):
            raise Skip("no_chat_identity")
        return recipient["email"]

    def body(self, recipient: dict, message: dict) -> dict:
        return {
            "type": "message",
            "recipient": self.address(recipient),
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "lang": message.get("language") or "fr",
                    "body": [{"type": "TextBlock", "text": message["text"], "wrap": True}],
                },
            }],
        }

    def send(self, recipient: dict, message: dict, delivery_id: str) -> None:
        post_json(self.session, self.settings.teams_url, self.body(recipient, message),
                  self.settings.timeout)
