"""Matrix (and Tchap, which is Matrix): a direct room with each person.

The first message to a person creates a private room that invites them
(``is_direct``) and remembers it (``chat_room``); later messages go to the
same room. The transaction id of each send is the ledger row's id, so the
homeserver itself drops a repeated send of the same message. Plain calls
of the client-server API with ``requests`` (cooperative under eventlet).
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import quote

import requests

from ...settings import Chat
from ..transport import DeliveryFailed, Skip
from .http import post_json

log = logging.getLogger(__name__)
API = "/_matrix/client/v3"


class MatrixChat:
    platform = "matrix"
    enabled = True

    def __init__(self, settings: Chat, rooms=None):
        self.settings = settings
        self.rooms = rooms
        self.session = requests.Session()
        self._token = settings.matrix_access_token
        self._lock = threading.Lock()

    def address(self, recipient: dict) -> str:
        identity = recipient.get("identity") or {}
        if not identity.get("external_id"):
            raise Skip("no_chat_identity")
        return identity["external_id"]

    def _url(self, path: str) -> str:
        return self.settings.matrix_homeserver + API + path

    def _headers(self) -> dict:
        with self._lock:
            if not self._token:
                response = post_json(self.session, self._url("/login"), {
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": self.settings.matrix_user_id},
                    "password": self.settings.matrix_password,
                    "initial_device_display_name": "Escale notify",
                }, self.settings.timeout)
                self._token = response.json()["access_token"]
            return {"Authorization": f"Bearer {self._token}"}

    def _room(self, person_id: str, user_id: str) -> str:
        room = self.rooms.room_of("matrix", person_id) if self.rooms else None
        if room:
            return room
        response = post_json(self.session, self._url("/createRoom"), {
            "is_direct": True, "preset": "trusted_private_chat", "invite": [user_id],
            "name": "Escale",
        }, self.settings.timeout, headers=self._headers())
        room = response.json()["room_id"]
        if self.rooms:
            self.rooms.set_room("matrix", person_id, room)
        return room

    def send(self, recipient: dict, message: dict, delivery_id: str) -> None:
        user_id = self.address(recipient)
        room = self._room(recipient["person_id"], user_id)
        path = f"/rooms/{quote(room, safe='')}/send/m.room.message/{quote(delivery_id, safe='')}"
        try:
            post_json(self.session, self._url(path), {"msgtype": "m.text", "body": message["text"]},
                      self.settings.timeout, headers=self._headers(), method="PUT")
        except DeliveryFailed as exc:
            if exc.permanent and self.rooms:
                # The person may have left the room: open a new one next time.
                self.rooms.set_room("matrix", recipient["person_id"], "")
            raise
