"""Cookie sessions, the demo sign-in and CSRF, against a real gateway and booking service."""

from __future__ import annotations

import asyncio
import html
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import aiohttp
import httpx
import psycopg
import pytest

from gateway.adapters.tokens import list_tokens
from tests.support.processes import gateway_process
from tests.support.clock import paris_today

from .conftest import demo_signin

pytestmark = pytest.mark.integration


def day(offset=1):
    return (paris_today() + timedelta(days=offset)).isoformat()


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """name -> the whole Set-Cookie header of that cookie."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def test_login_page_is_a_labelled_form_in_french_or_english(signin_gateway):
    page = httpx.get(f"{signin_gateway.url}/auth/login?next=/plan", timeout=10)
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert '<label for="email">Adresse électronique</label>' in page.text
    assert 'id="email" name="email" required' in page.text
    assert 'name="next" value="/plan"' in page.text
    english = httpx.get(f"{signin_gateway.url}/auth/login", headers={"Accept-Language": "en"},
                        timeout=10)
    assert '<html lang="en">' in english.text and "Email address" in english.text
    assert "script" not in page.text
    css = httpx.get(f"{signin_gateway.url}/auth/static/auth.css", timeout=10)
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_demo_signin_sets_a_session_cookie_and_me_gives_the_csrf_token(signin_gateway, people):
    with httpx.Client(base_url=signin_gateway.url, timeout=15) as browser:
        answer = browser.post("/auth/demo", data={"email": people.emails[0], "next": "/plan?d=1"})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/plan?d=1"
        cookies = set_cookies(answer)
        session = cookies["escale_session"].lower()
        assert "httponly" in session and "samesite=lax" in session and "path=/" in session
        assert "secure" not in session  # development over plain http only
        assert "max-age=36000" in session
        csrf = cookies["escale_csrf"].lower()
        assert "httponly" not in csrf and "samesite=lax" in csrf
        assert browser.cookies["escale_session"].startswith("ess_")

        me = browser.get("/api/v1/me")
        assert me.status_code == 200, me.text
        body = me.json()
        assert body["actor"]["email"] == people.emails[0]
        assert body["actor"]["role"] == "agent"
        assert body["actor"]["person_id"] == people.people[0]
        assert body["person"]["email"] == people.emails[0]
        assert body["csrf_token"] == browser.cookies["escale_csrf"]
        assert len(body["csrf_token"]) >= 32


def test_bearer_callers_get_no_csrf_token(signin_gateway, people, issue):
    token = issue(people.emails[0], "agent", person_id=people.people[0])
    me = httpx.get(f"{signin_gateway.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"},
                   timeout=10)
    assert me.status_code == 200 and "csrf_token" not in me.json()


def test_demo_admins_get_the_admin_role(signin_gateway, people):
    with demo_signin(signin_gateway.url, people.emails[1]) as browser:
        assert browser.get("/api/v1/me").json()["actor"]["role"] == "admin"


def test_unknown_email_is_refused_without_a_session(signin_gateway):
    answer = httpx.post(f"{signin_gateway.url}/auth/demo",
                        data={"email": f"nobody-{uuid.uuid4().hex[:6]}@mairie-test.fr"}, timeout=10)
    assert answer.status_code == 403
    assert "Aucune personne de l'annuaire" in html.unescape(answer.text) and 'role="alert"' in answer.text
    assert "escale_session" not in set_cookies(answer)


@pytest.mark.parametrize("next_path", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                       "javascript:alert(1)", ""])
def test_sign_in_only_redirects_to_same_origin_paths(signin_gateway, people, next_path):
    answer = httpx.post(f"{signin_gateway.url}/auth/demo",
                        data={"email": people.emails[0], "next": next_path}, timeout=10)
    assert answer.status_code == 303 and answer.headers["location"] == "/"


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    # What a browser sends for another site's form, whatever its Origin says.
    {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
])
def test_a_form_posted_from_another_site_signs_nobody_in(signin_gateway, people, headers):
    answer = httpx.post(f"{signin_gateway.url}/auth/demo", data={"email": people.emails[0]},
                        headers=headers, timeout=10)
    assert answer.status_code == 403
    assert "escale_session" not in set_cookies(answer)


def test_state_changing_requests_with_the_cookie_need_the_csrf_header(signin_gateway, people):
    with demo_signin(signin_gateway.url, people.emails[2]) as browser:
        body = {"resource_id": people.desks[3], "date": day(3), "period": "day"}
        missing = browser.post("/api/v1/bookings", json=body)
        assert missing.status_code == 403
        assert missing.json()["error"] == "csrf_failed"
        assert "X-CSRF-Token" in missing.json()["message"]
        wrong = browser.post("/api/v1/bookings", json=body, headers={"X-CSRF-Token": "x" * 43})
        assert wrong.status_code == 403 and wrong.json()["error"] == "csrf_failed"
        # Nothing was booked by the refused attempts.
        assert browser.get("/api/v1/bookings", params={"mine": 1}).status_code == 200

        csrf = {"X-CSRF-Token": browser.cookies["escale_csrf"]}
        created = browser.post("/api/v1/bookings", json=body, headers=csrf)
        assert created.status_code == 201, created.text
        booking = created.json()
        assert booking["person_id"] == people.people[2]
        assert browser.delete(f"/api/v1/bookings/{booking['id']}").status_code == 403
        assert browser.delete(f"/api/v1/bookings/{booking['id']}", headers=csrf).status_code == 200


def test_another_sessions_csrf_token_does_not_fit(signin_gateway, people):
    with demo_signin(signin_gateway.url, people.emails[0]) as mine, \
            demo_signin(signin_gateway.url, people.emails[0]) as other:
        stolen = {"X-CSRF-Token": other.cookies["escale_csrf"]}
        answer = mine.patch("/api/v1/me/notification-preferences", json={}, headers=stolen)
        assert answer.status_code == 403 and answer.json()["error"] == "csrf_failed"


def test_logout_needs_csrf_then_ends_the_session_at_once(signin_gateway, people):
    with demo_signin(signin_gateway.url, people.emails[0]) as browser:
        cookie = browser.cookies["escale_session"]
        assert browser.get("/api/v1/me").status_code == 200
        refused = browser.post("/auth/logout")
        assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"
        assert browser.get("/api/v1/me").status_code == 200

        done = browser.post("/auth/logout", headers={"X-CSRF-Token": browser.cookies["escale_csrf"]})
        assert done.status_code == 303 and done.headers["location"] == "/"
        cleared = set_cookies(done)
        assert "max-age=0" in cleared["escale_session"].lower()
        assert "max-age=0" in cleared["escale_csrf"].lower()
    # The old cookie, replayed: refused.
    again = httpx.get(f"{signin_gateway.url}/api/v1/me", cookies={"escale_session": cookie}, timeout=10)
    assert again.status_code == 401 and again.json()["error"] == "unauthorized"


def test_logout_from_a_plain_html_form(signin_gateway, people):
    with demo_signin(signin_gateway.url, people.emails[0]) as browser:
        done = browser.post("/auth/logout", data={"csrf_token": browser.cookies["escale_csrf"]})
        assert done.status_code == 303
        assert browser.get("/api/v1/me").status_code == 401


def test_an_admin_lists_and_revokes_a_session_and_it_is_refused_at_once(signin_gateway, people,
                                                                        gateway_db_url,
                                                                        booking_db_url):
    with demo_signin(signin_gateway.url, people.emails[2]) as browser:
        assert browser.get("/api/v1/me").status_code == 200
        assert browser.get("/api/v1/me").status_code == 200  # now from the gateway's memory
        sessions = [t for t in list_tokens(gateway_db_url, kind="session")
                    if t.email == people.emails[2] and t.revoked_at is None]
        assert sessions and all(t.kind == "session" for t in sessions)
        assert not any(t.kind == "session" for t in list_tokens(gateway_db_url, kind="api"))
        newest = sessions[0]
        assert newest.label == "demo sign-in" and str(newest.person_id) == people.people[2]
        # The operator's command lists it as a session and revokes it like a token.
        escale = [str(Path(sys.executable).with_name("escale")), "token"]
        env = {**os.environ, "ESCALE_GATEWAY_DATABASE_URL": gateway_db_url,
               "ESCALE_BOOKING_DATABASE_URL": booking_db_url}
        listing = subprocess.run([*escale, "list"], env=env, capture_output=True, text=True,
                                 timeout=60)
        line = next(l for l in listing.stdout.splitlines() if l.startswith(str(newest.id)))
        assert line.split()[1:3] == ["session", "agent"] and "active" in line
        revoked = subprocess.run([*escale, "revoke", str(newest.id)], env=env, capture_output=True,
                                 text=True, timeout=60)
        assert revoked.returncode == 0, revoked.stderr
        deadline = time.monotonic() + 1.0
        while (answer := browser.get("/api/v1/me")).status_code != 401:
            assert time.monotonic() < deadline, "revoked session still accepted"
            time.sleep(0.01)
        assert answer.json()["error"] == "unauthorized"


def test_a_session_is_not_a_bearer_token_nor_a_token_a_session(signin_gateway, people, issue):
    with demo_signin(signin_gateway.url, people.emails[0]) as browser:
        session = browser.cookies["escale_session"]
    as_bearer = httpx.get(f"{signin_gateway.url}/api/v1/me",
                          headers={"Authorization": f"Bearer {session}"}, timeout=10)
    assert as_bearer.status_code == 401
    token = issue(people.emails[0], "agent", person_id=people.people[0])
    as_cookie = httpx.get(f"{signin_gateway.url}/api/v1/me", cookies={"escale_session": token},
                          timeout=10)
    assert as_cookie.status_code == 401


def test_an_idle_session_expires(signin_gateway, people, gateway_db_url):
    with demo_signin(signin_gateway.url, people.emails[0]) as browser:
        created = max((t for t in list_tokens(gateway_db_url, kind="session")
                       if t.email == people.emails[0]), key=lambda t: t.created_at)
        # Unused for 31 minutes (the default idle limit is 30), before its first use.
        with psycopg.connect(gateway_db_url) as conn:
            conn.execute("UPDATE api_token SET last_used_at = now() - interval '31 minutes', "
                         "created_at = now() - interval '31 minutes' WHERE id = %s", (created.id,))
        answer = browser.get("/api/v1/me")
        assert answer.status_code == 401
        assert "reconnectez-vous" in answer.json()["message"]


def test_the_live_websocket_accepts_the_session_cookie_from_its_own_origin(signin_gateway, people):
    with demo_signin(signin_gateway.url, people.emails[0]) as browser:
        cookie = browser.cookies["escale_session"]

    async def connect(origin: str):
        async with aiohttp.ClientSession(cookies={"escale_session": cookie}) as session:
            try:
                ws = await session.ws_connect(f"{signin_gateway.url}/api/v1/live",
                                              headers={"Origin": origin})
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status
            welcome = await ws.receive_json(timeout=10)
            await ws.close()
            return welcome["type"]

    assert asyncio.run(connect(signin_gateway.url)) == "welcome"
    assert asyncio.run(connect("https://evil.example")) == 403


@pytest.fixture(scope="module")
def gateway_without_demo(amqp_uri, gateway_db_url, booking_service):
    process = gateway_process(amqp_uri, gateway_db_url, ESCALE_DEMO_SIGNIN="0").start()
    yield process
    process.stop()


def test_no_demo_signin_unless_configured(gateway_without_demo, people):
    assert httpx.get(f"{gateway_without_demo.url}/auth/login", timeout=10).status_code == 404
    answer = httpx.post(f"{gateway_without_demo.url}/auth/demo", data={"email": people.emails[0]},
                        timeout=10)
    assert answer.status_code == 404 and "escale_session" not in set_cookies(answer)


def test_ended_sessions_lose_their_id_token_then_their_row(signin_gateway, people, gateway_db_url):
    for _ in range(2):
        with demo_signin(signin_gateway.url, people.emails[0]):
            pass
    ended, old = sorted((t for t in list_tokens(gateway_db_url, kind="session")
                         if t.email == people.emails[0] and t.revoked_at is None),
                        key=lambda t: t.created_at)[-2:]
    with psycopg.connect(gateway_db_url) as conn:
        conn.execute("UPDATE api_token SET id_token = 'header.claims.signature', "
                     "expires_at = now() - interval '1 minute' WHERE id = %s", (ended.id,))
        conn.execute("UPDATE api_token SET expires_at = now() - interval '31 days' WHERE id = %s",
                     (old.id,))
    with demo_signin(signin_gateway.url, people.emails[1]):  # anyone's sign-in tidies up
        pass
    with psycopg.connect(gateway_db_url) as conn:
        rows = dict(conn.execute("SELECT id, id_token FROM api_token WHERE id = ANY(%s)",
                                 ([ended.id, old.id],)).fetchall())
    assert rows == {ended.id: None}


def test_an_admin_lists_and_ends_sessions_through_the_api(signin_gateway, people, issue):
    admin = {"Authorization": f"Bearer {issue('tokens.admin@mairie-test.fr', 'admin')}"}
    agent = {"Authorization": f"Bearer {issue(people.emails[0], 'agent', person_id=people.people[0])}"}
    with demo_signin(signin_gateway.url, people.emails[2]) as browser, \
            httpx.Client(base_url=signin_gateway.url, timeout=10) as api:
        assert browser.get("/api/v1/me").status_code == 200
        listed = api.get("/api/v1/tokens", params={"kind": "session", "email": people.emails[2],
                                                   "active": "true"}, headers=admin)
        assert listed.status_code == 200, listed.text
        sessions = listed.json()
        assert sessions and {s["kind"] for s in sessions} == {"session"}
        assert all(s["active"] and s["email"] == people.emails[2] for s in sessions)
        assert not any("hash" in key or key == "id_token" for s in sessions for key in s)
        newest = sessions[0]
        assert api.get("/api/v1/tokens", headers=agent).status_code == 403
        assert api.delete(f"/api/v1/tokens/{newest['id']}", headers=agent).status_code == 403

        ended = api.delete(f"/api/v1/tokens/{newest['id']}", headers=admin)
        assert ended.status_code == 200 and ended.json()["active"] is False
        deadline = time.monotonic() + 1.0
        while browser.get("/api/v1/me").status_code != 401:
            assert time.monotonic() < deadline, "ended session still accepted"
            time.sleep(0.01)
        assert api.delete(f"/api/v1/tokens/{uuid.uuid4()}", headers=admin).status_code == 404
        apis = api.get("/api/v1/tokens", params={"kind": "api"}, headers=admin).json()
        assert apis and {t["kind"] for t in apis} == {"api"}
