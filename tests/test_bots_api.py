"""Chat webhooks and notification routes through the real gateway, notify,
presence and booking processes: valid, wrong-signature, stale and replayed
requests for Slack, Mattermost and Teams; preferences and dead letters."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import httpx
import pytest

from tests.support.notify import ADMIN
from tests.support.processes import gateway_process
from tests.support.servers import REDIS_URL

pytestmark = pytest.mark.e2e

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MATTERMOST_TOKEN = "xbxgm6cw1jrmfpfa3zuo7nqn9w"
TEAMS_KEY = base64.b64encode(b"teams outgoing webhook key of 32b").decode()


@pytest.fixture(scope="session")
def bot_gateway(amqp_uri, gateway_db_url, booking_service, notify_service, presence_service,
                redis_prefix):
    process = gateway_process(
        amqp_uri, gateway_db_url,
        ESCALE_BOT_SLACK_SIGNING_SECRET=SLACK_SECRET,
        ESCALE_BOT_MATTERMOST_TOKENS=f"other-token,{MATTERMOST_TOKEN}",
        ESCALE_BOT_TEAMS_SECRET=TEAMS_KEY,
        ESCALE_REDIS_URL=REDIS_URL,
        ESCALE_GATEWAY_REDIS_PREFIX=f"{redis_prefix}gateway:",
    ).start()
    yield process
    process.stop()


def slack_request(text, user_id="U0SLACK", timestamp=None, secret=SLACK_SECRET):
    body = urlencode({"token": "deprecated", "team_id": "T1", "user_id": user_id,
                      "user_name": "camille", "command": "/escale", "text": text,
                      "trigger_id": uuid.uuid4().hex}).encode()
    timestamp = str(int(timestamp if timestamp is not None else time.time()))
    signature = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body,
                                 hashlib.sha256).hexdigest()
    return body, {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature,
                  "Content-Type": "application/x-www-form-urlencoded"}


def test_slack_valid_wrong_stale_and_replayed(bot_gateway):
    with httpx.Client(base_url=bot_gateway.url + "/api/v1", timeout=15) as api:
        body, headers = slack_request("aide")
        ok = api.post("/bots/slack", content=body, headers=headers)
        assert ok.status_code == 200, ok.text
        assert ok.json()["response_type"] == "ephemeral"
        assert "où est Marie Dupont" in ok.json()["text"]

        replayed = api.post("/bots/slack", content=body, headers=headers)
        assert replayed.status_code == 409 and replayed.json()["error"] == "replayed_request"

        body, headers = slack_request("aide", secret="not-the-secret")
        wrong = api.post("/bots/slack", content=body, headers=headers)
        assert wrong.status_code == 401 and wrong.json()["error"] == "bad_signature"

        body, headers = slack_request("aide")
        tampered = api.post("/bots/slack", content=body.replace(b"aide", b"help"),
                            headers=headers)
        assert tampered.status_code == 401

        body, headers = slack_request("aide", timestamp=time.time() - 600)
        stale = api.post("/bots/slack", content=body, headers=headers)
        assert stale.status_code == 401 and stale.json()["error"] == "stale_request"

        unsigned = api.post("/bots/slack", content=b"text=aide",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert unsigned.status_code == 401


def test_a_linked_slack_user_gets_an_answer_about_a_colleague(bot_gateway, notify_rpc, place,
                                                               presence_service):
    user_id = f"U{uuid.uuid4().hex[:8].upper()}"
    notify_rpc.set_chat_identity(actor=ADMIN, platform="slack", external_id=user_id,
                                 person_id=place.people[0])
    tag = place.emails[0].split(".")[1].split("@")[0]
    name = f"Agent1 Test{tag}"
    with httpx.Client(base_url=bot_gateway.url + "/api/v1", timeout=15) as api:
        deadline = time.monotonic() + 20
        while True:  # presence learns new people from the directory every few seconds
            body, headers = slack_request(f"where is {name}?", user_id=user_id)
            answer = api.post("/bots/slack", content=body, headers=headers).json()["text"]
            if answer.startswith(name) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert answer.startswith(f"{name} (DSI):"), answer
        body, headers = slack_request(f"where is {name}?", user_id="UNKNOWN")
        stranger = api.post("/bots/slack", content=body, headers=headers).json()["text"]
        assert stranger.startswith("I do not know who you are")


def mattermost_request(text, token=MATTERMOST_TOKEN, trigger_id=None):
    body = urlencode({"channel_id": "c1", "team_id": "t1", "user_id": "mmuser", "user_name": "cam",
                      "command": "/escale", "text": text,
                      "trigger_id": trigger_id or uuid.uuid4().hex}).encode()
    return body, {"Authorization": f"Token {token}",
                  "Content-Type": "application/x-www-form-urlencoded"}


def test_mattermost_token_and_replays(bot_gateway):
    with httpx.Client(base_url=bot_gateway.url + "/api/v1", timeout=15) as api:
        body, headers = mattermost_request("help")
        ok = api.post("/bots/mattermost", content=body, headers=headers)
        assert ok.status_code == 200 and "where is Marie Dupont" in ok.json()["text"]
        again = api.post("/bots/mattermost", content=body, headers=headers)
        assert again.status_code == 409
        body, headers = mattermost_request("help", token="guessed")
        assert api.post("/bots/mattermost", content=body, headers=headers).status_code == 401
        body, _ = mattermost_request("help")
        assert api.post("/bots/mattermost", content=body).status_code == 401


def teams_request(text, when=None, key=TEAMS_KEY, activity_id=None):
    when = when or datetime.now(timezone.utc)
    body = json.dumps({
        "type": "message", "id": activity_id or uuid.uuid4().hex,
        "timestamp": when.isoformat().replace("+00:00", "Z"),
        "from": {"id": "29:1abc", "name": "Camille", "aadObjectId": str(uuid.uuid4())},
        "text": f"<at>Escale</at> {text}",
    }).encode()
    mac = hmac.new(base64.b64decode(key), body, hashlib.sha256).digest()
    return body, {"Authorization": "HMAC " + base64.b64encode(mac).decode(),
                  "Content-Type": "application/json"}


def test_teams_hmac_time_window_and_replays(bot_gateway):
    with httpx.Client(base_url=bot_gateway.url + "/api/v1", timeout=15) as api:
        body, headers = teams_request("aide")
        ok = api.post("/bots/teams", content=body, headers=headers)
        assert ok.status_code == 200, ok.text
        assert ok.json()["type"] == "message" and "qui est sur site demain" in ok.json()["text"]
        assert api.post("/bots/teams", content=body, headers=headers).status_code == 409

        wrong_key = base64.b64encode(b"another key entirely, 32 bytes!!").decode()
        body, headers = teams_request("aide", key=wrong_key)
        wrong = api.post("/bots/teams", content=body, headers=headers)
        assert wrong.status_code == 401 and wrong.json()["error"] == "bad_signature"

        body, headers = teams_request("aide", when=datetime.now(timezone.utc) - timedelta(hours=1))
        stale = api.post("/bots/teams", content=body, headers=headers)
        assert stale.status_code == 401 and stale.json()["error"] == "stale_request"

        body, headers = teams_request("aide")
        headers["Authorization"] = "Bearer something"
        assert api.post("/bots/teams", content=body, headers=headers).status_code == 401


def test_notification_preferences_and_dead_letters_through_the_gateway(bot_gateway, issue, place):
    agent = {"Authorization": f"Bearer {issue(place.emails[0], 'agent', person_id=place.people[0])}"}
    admin = {"Authorization": f"Bearer {issue('admin.notify@mairie-test.fr', 'admin')}"}
    with httpx.Client(base_url=bot_gateway.url + "/api/v1", timeout=15) as api:
        mine = api.get("/me/notification-preferences", headers=agent)
        assert mine.status_code == 200 and mine.json()["channels"]["confirmation"] == ["email"]
        changed = api.patch("/me/notification-preferences", headers=agent, json={
            "channels": {"reminder": ["chat"], "released": []}, "reminder": "morning_of",
            "quiet_hours": {"start": "21:00", "end": "07:30"}})
        assert changed.status_code == 200, changed.text
        assert changed.json()["channels"]["reminder"] == ["chat"]
        assert changed.json()["channels"]["released"] == []
        assert changed.json()["channels"]["confirmation"] == ["email"]
        unchanged = api.patch("/me/notification-preferences", headers=agent, json={"channels": None})
        assert unchanged.status_code == 200, unchanged.text
        assert unchanged.json()["channels"]["reminder"] == ["chat"]
        bad = api.patch("/me/notification-preferences", headers=agent,
                        json={"channels": {"reminder": ["sms"]}})
        assert bad.status_code == 422
        bad_zone = api.patch("/me/notification-preferences", headers={**agent, "Accept-Language": "en"},
                             json={"timezone": "Mars/Olympus"})
        assert bad_zone.status_code == 422 and bad_zone.json()["field"] == "timezone"
        # notify words its errors in the caller's language, French by default.
        assert bad_zone.json()["message"] == "timezone must be an IANA time zone, e.g. Europe/Paris."
        french_zone = api.patch("/me/notification-preferences", headers=agent,
                                json={"timezone": "Mars/Olympus"})
        assert french_zone.json()["message"] == \
            "timezone doit être un fuseau horaire IANA, par exemple Europe/Paris."

        assert api.get("/admin/dead-letters", headers=agent).status_code == 403
        dead = api.get("/admin/dead-letters", headers=admin)
        assert dead.status_code == 200 and "items" in dead.json()
        missing = api.post("/admin/dead-letters/replay", headers=admin,
                           json={"ids": [str(uuid.uuid4())]})
        assert missing.status_code == 404

        linked = api.put("/admin/chat-identities", headers=admin, json={
            "platform": "mattermost", "external_id": "mm-user-1", "person_id": place.people[0],
            "handle": "@camille"})
        assert linked.status_code == 200 and linked.json()["handle"] == "camille"
        assert api.put("/admin/chat-identities", headers=agent, json={
            "platform": "mattermost", "external_id": "x", "person_id": place.people[0]}
        ).status_code == 403
        gone = api.delete("/admin/chat-identities/mattermost/mm-user-1", headers=admin)
        assert gone.status_code == 200 and gone.json() == {"deleted": True}
        assert api.delete("/admin/chat-identities/mattermost/mm-user-1",
                          headers=admin).status_code == 404
