"""The Matrix bot end to end: a real Synapse (SQLite, loopback, users made
with the shared secret), the bot process, and the real notify, presence and
booking services. A user invites the bot to a room and asks "où est ...";
the answer follows what presence lets that user see."""

import time
import uuid
from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from tests.support.notify import ADMIN, matrix_bot_process
from tests.support.clock import slot_now

pytestmark = pytest.mark.e2e


class MatrixUser:
    """A user of the homeserver, speaking the client-server API."""

    def __init__(self, synapse, account):
        self.user_id = account["user_id"]
        self.http = httpx.Client(base_url=f"{synapse.url}/_matrix/client/v3", timeout=15,
                                 headers={"Authorization": f"Bearer {account['access_token']}"})

    def create_room(self, invite: list[str]) -> str:
        response = self.http.post("/createRoom", json={"invite": invite, "preset": "private_chat",
                                                       "name": "Escale ?"})
        response.raise_for_status()
        return response.json()["room_id"]

    def wait_joined(self, room_id: str, user_id: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            members = self.http.get(f"/rooms/{quote(room_id)}/joined_members").json()
            if user_id in members.get("joined", {}):
                return
            time.sleep(0.1)
        raise AssertionError(f"{user_id} did not join {room_id}")

    def say(self, room_id: str, text: str) -> str:
        txn = uuid.uuid4().hex
        response = self.http.put(f"/rooms/{quote(room_id)}/send/m.room.message/{txn}",
                                 json={"msgtype": "m.text", "body": text})
        response.raise_for_status()
        return response.json()["event_id"]

    def reply_to(self, room_id: str, after_event: str, sender: str, timeout: float = 20) -> str:
        """The first m.notice from ``sender`` after our message."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = self.http.get(f"/rooms/{quote(room_id)}/messages",
                                  params={"dir": "b", "limit": 20}).json()["chunk"]
            events = list(reversed(chunk))
            ids = [e["event_id"] for e in events]
            if after_event in ids:
                for event in events[ids.index(after_event) + 1:]:
                    content = event.get("content", {})
                    if event["sender"] == sender and content.get("msgtype") == "m.notice":
                        return content["body"]
            time.sleep(0.2)
        raise AssertionError("the bot did not answer")


@pytest.fixture(scope="session")
def bot_account(synapse):
    return synapse.register("escale", password="bot-password")


@pytest.fixture(scope="session")
def matrix_bot(synapse, bot_account, amqp_uri, notify_service, presence_service):
    process = matrix_bot_process(amqp_uri, synapse.url, bot_account["user_id"],
                                 bot_account["password"]).start(timeout=60)
    yield process
    process.stop()


@pytest.fixture
def presence_rpc(presence_service, amqp_uri):
    with ServiceRpcProxy("presence", {"AMQP_URI": amqp_uri}, timeout=15) as proxy:
        yield proxy


def wait_until(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_a_user_invites_the_bot_and_asks_where_someone_is(matrix_bot, synapse, bot_account, place,
                                                          notify_rpc, presence_rpc, amqp_uri):
    alice = MatrixUser(synapse, synapse.register(f"alice{uuid.uuid4().hex[:6]}"))
    mallory = MatrixUser(synapse, synapse.register(f"mallory{uuid.uuid4().hex[:6]}"))
    asker, colleague, private = place.people
    notify_rpc.set_chat_identity(actor=ADMIN, platform="matrix", external_id=alice.user_id,
                                 person_id=asker)
    # The colleague books a desk now: presence says "on site".
    start, end = slot_now(after=timedelta(hours=3))
    with ServiceRpcProxy("booking", {"AMQP_URI": amqp_uri}, timeout=10) as booking:
        booking.create_booking(actor={"person_id": colleague, "role": "agent"}, request={
            "resource_id": place.desks[1], "start": start.isoformat(), "end": end.isoformat()})
    tag = place.emails[0].split(".")[1].split("@")[0]
    colleague_name = f"Agent1 Test{tag}"
    private_name = colleague_name.replace("Agent1", "Agent2")
    actor = {"person_id": asker, "role": "bot", "site_ids": [], "room_id": None}
    for pid, name in ((colleague, colleague_name), (private, private_name)):
        wait_until(lambda: any(m["person"]["id"] == pid for m in presence_rpc.find_people(
            actor=actor, q=name)["matches"]))
    # Once presence knows them, the third person hides their presence from everyone.
    presence_rpc.set_privacy(actor={"person_id": private, "role": "agent"}, visibility="nobody")

    room = alice.create_room(invite=[bot_account["user_id"]])
    alice.wait_joined(room, bot_account["user_id"])

    asked = alice.say(room, f"où est {colleague_name} ?")
    answer = alice.reply_to(room, asked, bot_account["user_id"])
    assert answer.startswith(colleague_name), answer
    assert "non disponible" not in answer

    asked = alice.say(room, f"where is {private_name}?")
    answer = alice.reply_to(room, asked, bot_account["user_id"])
    assert answer.startswith(private_name) and "not available" in answer, answer

    room2 = mallory.create_room(invite=[bot_account["user_id"]])
    mallory.wait_joined(room2, bot_account["user_id"])
    asked = mallory.say(room2, f"où est {colleague_name} ?")
    answer = mallory.reply_to(room2, asked, bot_account["user_id"])
    assert "Je ne sais pas qui vous êtes" in answer
    assert colleague_name not in answer
