-- depends: 0002_token_change_notify
-- Door tablets (devices): pairing codes and heartbeats.
--
-- A display asks for a pairing code and keeps a claim secret (only its
-- SHA-256 is stored). When an admin pairs the code with a room, the gateway
-- issues a device token (an api_token row with role 'device' and room_id)
-- and keeps the token here only until the display collects it with its
-- claim secret; the row is deleted on collection, and an expired row is
-- useless (the code and the token are refused after expires_at).

CREATE TABLE device_pairing (
    code         text PRIMARY KEY CHECK (code ~ '^[A-Z0-9]{6}$'),
    claim_hash   bytea NOT NULL CHECK (octet_length(claim_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    token_id     uuid NULL REFERENCES api_token (id) ON DELETE CASCADE,
    token        text NULL
);

CREATE INDEX device_pairing_expiry ON device_pairing (expires_at);

-- The last heartbeat of each device token (one row per tablet).
CREATE TABLE device_heartbeat (
    token_id      uuid PRIMARY KEY REFERENCES api_token (id) ON DELETE CASCADE,
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);
