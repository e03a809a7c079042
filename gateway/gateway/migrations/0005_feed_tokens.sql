-- depends: 0003_device_pairing
-- Private iCalendar subscription feeds: one secret URL per feed.
--
-- A calendar client cannot send a bearer token, so the URL itself is the
-- credential (/ical/<secret>.ics). As with API tokens only the secret's
-- SHA-256 is stored; it is shown once, when the feed is created. The gateway
-- reads this row on every fetch, so revoking (setting revoked_at) takes
-- effect at once. A person feed shows one person's bookings; a room feed
-- one room's, managed by the admins of the room's site.

CREATE TABLE feed_token (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash       bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    kind             text NOT NULL CHECK (kind IN ('person', 'room')),
    person_id        uuid NULL,
    room_id          uuid NULL,
    site_id          uuid NULL,
    label            text NOT NULL DEFAULT '',
    created_by       uuid NULL,          -- the person who created it, when known
    created_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz NULL,
    last_fetched_at  timestamptz NULL,
    CONSTRAINT feed_token_owner CHECK (
        (kind = 'person' AND person_id IS NOT NULL AND room_id IS NULL)
        OR (kind = 'room' AND room_id IS NOT NULL AND person_id IS NULL))
);

CREATE INDEX feed_token_person ON feed_token (person_id, created_at) WHERE revoked_at IS NULL;
CREATE INDEX feed_token_room ON feed_token (room_id, created_at) WHERE revoked_at IS NULL;
