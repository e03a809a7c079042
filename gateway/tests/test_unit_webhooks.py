"""Chat webhook checks (gateway.webhooks): signatures, tokens, time windows."""

import base64
import hashlib
import hmac

import pytest

from gateway.webhooks import (
    BotSettings, Refused, check_fresh, slack_signature, teams_signature, teams_text, verify_slack,
    verify_teams, verify_token,
)

pytestmark = pytest.mark.unit

NOW = 1_800_000_000


def test_slack_signature_matches_slacks_documented_example():
    # https://api.slack.com/authentication/verifying-requests-from-slack
    body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
            b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
            b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
            b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
            b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
    assert slack_signature("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body) == \
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_slack_refusals():
    body = b"text=aide"
    good = {"X-Slack-Request-Timestamp": str(NOW),
            "X-Slack-Signature": slack_signature("s3cret", str(NOW), body)}
    assert verify_slack("s3cret", good, body, NOW + 10, 300) == good["X-Slack-Signature"]
    for secret, headers, now, code in (
        ("", good, NOW, "bot_not_configured"),
        ("other", good, NOW, "bad_signature"),
        ("s3cret", {**good, "X-Slack-Request-Timestamp": "soon"}, NOW, "bad_signature"),
        ("s3cret", {"X-Slack-Request-Timestamp": str(NOW)}, NOW, "bad_signature"),
        ("s3cret", good, NOW + 301, "stale_request"),
        ("s3cret", good, NOW - 301, "stale_request"),
    ):
        with pytest.raises(Refused) as refused:
            verify_slack(secret, headers, body, now, 300)
        assert refused.value.code == code


def test_mattermost_token():
    verify_token(("a", "b"), {"Authorization": "Token b"})
    for tokens, header, code in ((("a",), "Token b", "bad_signature"),
                                 (("a",), "Bearer a", "bad_signature"),
                                 (("a",), "", "bad_signature"),
                                 ((), "Token a", "bot_not_configured")):
        with pytest.raises(Refused) as refused:
            verify_token(tokens, {"Authorization": header})
        assert refused.value.code == code


def test_teams_hmac_and_window():
    key = b"0123456789abcdef0123456789abcdef"
    body = b'{"type":"message","text":"<at>Escale</at> o\\u00f9 est Marie ?"}'
    expected = "HMAC " + base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
    assert teams_signature(key, body) == expected
    verify_teams(key, {"Authorization": expected}, body)
    with pytest.raises(Refused):
        verify_teams(key, {"Authorization": expected}, body + b" ")
    with pytest.raises(Refused):
        verify_teams(b"", {"Authorization": expected}, body)
    check_fresh("2027-01-15T08:00:00.123Z", 1_800_000_000 - 0, 10**9)
    with pytest.raises(Refused):
        check_fresh("2020-01-01T00:00:00Z", NOW, 300)
    with pytest.raises(Refused):
        check_fresh("yesterday", NOW, 300)
    assert teams_text("<at>Escale</at> o&ugrave; est <b>Marie</b>&nbsp;?") == "où est Marie ?"


def test_settings():
    settings = BotSettings.from_env({"ESCALE_BOT_MATTERMOST_TOKENS": " a, b ,,",
                                     "ESCALE_BOT_TEAMS_SECRET": base64.b64encode(b"k").decode()})
    assert settings.mattermost_tokens == ("a", "b") and settings.teams_secret == b"k"
    assert "mattermost_tokens" not in repr(settings) and "teams_secret" not in repr(settings)
    with pytest.raises(ValueError):
        BotSettings.from_env({"ESCALE_BOT_TEAMS_SECRET": "not base64!"})
    with pytest.raises(ValueError):
        BotSettings.from_env({"ESCALE_BOT_REPLAY_WINDOW": "2"})
