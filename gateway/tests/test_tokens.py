"""The token store: issued tokens are stored as hashes and found by value."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from gateway.adapters.migrate import upgrade
from gateway.adapters.tokens import TokenStore, issue_token, list_tokens, revoke_token

pytestmark = pytest.mark.integration


def test_issue_returns_token_and_stores_only_its_hash(gateway_db_url):
    token = issue_token(gateway_db_url, email="a.martin@example.org", role="agent", label="t1")
    assert re.fullmatch(r"esc_[A-Za-z0-9_-]{43}", token)
    with psycopg.connect(gateway_db_url) as conn:
        rows = conn.execute("SELECT token_hash FROM api_token").fetchall()
    hashes = [bytes(r[0]) for r in rows]
    assert hashlib.sha256(token.encode()).digest() in hashes
    assert all(token.encode() not in h for h in hashes)


def test_upgrade_is_idempotent(gateway_db_url):
    assert upgrade(gateway_db_url) == 0


def test_issue_rejects_bad_role_and_ids(gateway_db_url):
    with pytest.raises(ValueError):
        issue_token(gateway_db_url, email="x@example.org", role="root")
    with pytest.raises(ValueError):
        issue_token(gateway_db_url, email="x@example.org", role="agent", person_id="nope")
    with pytest.raises(ValueError):
        issue_token(gateway_db_url, email="not-an-email", role="agent")


async def test_lookup_revoke_and_expiry(gateway_db_url):
    site = uuid.uuid4()
    person = uuid.uuid4()
    token = issue_token(
        gateway_db_url, email="admin.site@example.org", role="site_admin",
        person_id=person, site_ids=[site], label="lookup",
    )
    expired = issue_token(
        gateway_db_url, email="old@example.org", role="agent",
        expires_at=datetime.now(timezone.utc) - timedelta(minutes=1),
    )
    store = TokenStore(gateway_db_url)
    await store.open(wait=True)
    try:
        rec = await store.find(token)
        assert rec is not None and rec.role == "site_admin"
        assert rec.site_ids == (site,) and rec.person_id == person
        now = datetime.now(timezone.utc)
        assert rec.usable_at(now)
        assert await store.find("esc_" + "x" * 43) is None
        assert await store.find("garbage") is None
        old = await store.find(expired)
        assert old is not None and not old.usable_at(now)

        assert revoke_token(gateway_db_url, rec.id) is True
        assert revoke_token(gateway_db_url, rec.id) is False
        again = await store.find(token)
        assert again is not None and not again.usable_at(now)
        listed = {t.id: t for t in list_tokens(gateway_db_url)}
        assert listed[rec.id].revoked_at is not None
        assert listed[rec.id].last_used_at is not None
        assert await store.ping()
    finally:
        await store.close()
