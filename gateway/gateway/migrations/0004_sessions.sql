-- depends: 0003_device_pairing
-- Browser sessions are credentials of the same store as API tokens.
--
-- A session is an api_token row of kind 'session': found by the SHA-256 of
-- the value of the escale_session cookie, cached and invalidated like any
-- token (0002's trigger), listed and revoked by admins like any token. A
-- session value starts with 'ess_', an API token with 'esc_'; the gateway
-- accepts a session only from the cookie and an API token only from the
-- Authorization header.
--
-- id_token keeps the OpenID provider's ID token of an OIDC session, only to
-- send it back as id_token_hint when the person signs out (RP-initiated
-- logout); it is cleared when the session ends.

ALTER TABLE api_token
    ADD COLUMN kind text NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'session')),
    ADD COLUMN id_token text NULL;

CREATE INDEX api_token_live_sessions ON api_token (expires_at)
    WHERE kind = 'session' AND revoked_at IS NULL;
