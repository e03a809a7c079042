"""The chat plugins against real servers: Matrix against Synapse, the
incoming-webhook and Teams plugins against a local HTTP server that records
what it receives (and fails when told)."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import httpx
import pytest

from notify.adapters.chat import DryRun, load
from notify.adapters.transport import DeliveryFailed, Skip
from notify.settings import Chat

pytestmark = pytest.mark.integration


class Rooms:
    """The store's room memory, in memory."""

    def __init__(self):
        self.rooms = {}

    def room_of(self, platform, person_id):
        return self.rooms.get((platform, person_id))

    def set_room(self, platform, person_id, room_id):
        self.rooms[(platform, person_id)] = room_id


def test_matrix_backend_opens_a_direct_room_and_writes_there(synapse):
    bot = synapse.register(f"notify{uuid.uuid4().hex[:6]}", password="notify-password")
    person = synapse.register(f"camille{uuid.uuid4().hex[:6]}")
    rooms = Rooms()
    backend = load(Chat(backend="matrix", matrix_homeserver=synapse.url,
                        matrix_user_id=bot["user_id"], matrix_password="notify-password"), rooms)
    recipient = {"person_id": "p1", "email": None,
                 "identity": {"external_id": person["user_id"], "handle": None}}
    backend.send(recipient, {"text": "✅ Réservation confirmée : la salle Seine."}, "d-1")
    backend.send(recipient, {"text": "⏰ Rappel : la salle Seine."}, "d-2")
    backend.send(recipient, {"text": "⏰ Rappel : la salle Seine."}, "d-2")  # the same message again
    room = rooms.room_of("matrix", "p1")
    assert room
    client = httpx.Client(base_url=f"{synapse.url}/_matrix/client/v3", timeout=10,
                          headers={"Authorization": f"Bearer {person['access_token']}"})
    client.post(f"/rooms/{quote(room)}/join", json={}).raise_for_status()
    chunk = client.get(f"/rooms/{quote(room)}/messages", params={"dir": "b", "limit": 20}).json()
    bodies = [e["content"]["body"] for e in reversed(chunk["chunk"])
              if e["type"] == "m.room.message"]
    # The transaction id is the ledger row's: a repeated send is one message.
    assert bodies == ["✅ Réservation confirmée : la salle Seine.", "⏰ Rappel : la salle Seine."]
    with pytest.raises(Skip):
        backend.send({"person_id": "p2", "identity": None}, {"text": "x"}, "d-3")


class Recorder(BaseHTTPRequestHandler):
    received: list = []
    fail_with: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.received.append((self.path, json.loads(body)))
        status = Recorder.fail_with.pop(0) if Recorder.fail_with else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    Recorder.received, Recorder.fail_with = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


RECIPIENT = {"person_id": "p1", "email": "camille@mairie.fr",
             "identity": {"external_id": "U42", "handle": "camille"}}


def test_webhook_and_teams_backends_post_and_map_failures(http_server):
    mattermost = load(Chat(backend="webhook", webhook_url=f"{http_server}/hooks/abc",
                           webhook_flavour="mattermost"))
    mattermost.send(RECIPIENT, {"text": "Rappel"}, "d1")
    teams = load(Chat(backend="teams", teams_url=f"{http_server}/workflows/xyz"))
    teams.send(RECIPIENT, {"text": "Rappel", "language": "fr"}, "d2")
    assert Recorder.received[0] == ("/hooks/abc", {"text": "Rappel", "channel": "@camille"})
    path, card = Recorder.received[1]
    assert path == "/workflows/xyz" and card["recipient"] == "camille@mairie.fr"
    Recorder.fail_with = [503, 400]
    with pytest.raises(DeliveryFailed) as temporary:
        mattermost.send(RECIPIENT, {"text": "x"}, "d3")
    assert not temporary.value.permanent
    with pytest.raises(DeliveryFailed) as permanent:
        mattermost.send(RECIPIENT, {"text": "x"}, "d4")
    assert permanent.value.permanent
    unreachable = load(Chat(backend="webhook", webhook_url="http://127.0.0.1:1/x", timeout=1))
    with pytest.raises(DeliveryFailed) as down:
        unreachable.send(RECIPIENT, {"text": "x"}, "d5")
    assert not down.value.permanent


def test_dry_run_posts_nothing(http_server):
    dry = DryRun(load(Chat(backend="webhook", webhook_url=f"{http_server}/hooks/abc")))
    dry.send(RECIPIENT, {"text": "Rappel"}, "d1")
    time.sleep(0.1)
    assert Recorder.received == []
    with pytest.raises(Skip):  # the same skips as for real
        dry.send({"person_id": "p1", "identity": None}, {"text": "x"}, "d2")
