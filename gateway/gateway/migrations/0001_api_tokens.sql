-- Gateway store: API bearer tokens.
--
-- Only the SHA-256 of a token is stored, never the token itself: a leaked
-- database gives no usable credential. The gateway looks a token up by its
-- hash on every request, so revoking (setting revoked_at) takes effect at once.

CREATE TABLE api_token (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash    bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    email         text NOT NULL,
    person_id     uuid NULL,
    role          text NOT NULL
                  CHECK (role IN ('agent', 'site_admin', 'admin', 'device', 'bot')),
    site_ids      uuid[] NOT NULL DEFAULT '{}',
    room_id       uuid NULL,
    label         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NULL,
    revoked_at    timestamptz NULL,
    last_used_at  timestamptz NULL
);

CREATE INDEX api_token_email_idx ON api_token (lower(email));
