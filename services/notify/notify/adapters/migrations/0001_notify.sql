-- The notify service's own database: preferences, who is who in chat, the
-- ledger of messages (one row per event and channel: the same event twice
-- sends one message), their retry state and the dead letters, and the
-- reminders and no-show warnings waiting for their time.

CREATE TABLE preference (
    person_id    uuid PRIMARY KEY,
    -- {"confirmation": ["email"], "reminder": ["email", "chat"], ...}; [] means none
    channels     jsonb NOT NULL,
    reminder     text NOT NULL CHECK (reminder IN ('day_before', 'morning_of', 'none')),
    quiet_start  time,
    quiet_end    time,
    timezone     text NOT NULL DEFAULT 'Europe/Paris',
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- A chat account (Matrix id, Mattermost/Slack user id, Teams AAD object id)
-- and the person it is: set by administrators.
CREATE TABLE chat_identity (
    platform     text NOT NULL CHECK (platform IN ('matrix', 'slack', 'mattermost', 'rocketchat', 'teams')),
    external_id  text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 255),
    person_id    uuid NOT NULL,
    -- the user name where the platform addresses people by name (Mattermost,
    -- Rocket.Chat: "@handle" direct messages through an incoming webhook)
    handle       text CHECK (length(handle) BETWEEN 1 AND 255),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, external_id)
);
CREATE INDEX chat_identity_person ON chat_identity (person_id, platform);

-- The direct-message room the notify service opened with a person (Matrix).
CREATE TABLE chat_room (
    platform     text NOT NULL,
    person_id    uuid NOT NULL,
    room_id      text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, person_id)
);

CREATE TABLE delivery (
    id               uuid PRIMARY KEY,
    event_id         uuid NOT NULL,
    channel          text NOT NULL CHECK (channel IN ('email', 'chat')),
    kind             text NOT NULL,
    person_id        uuid,
    booking_id       uuid,
    message          jsonb NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'sent', 'dead', 'skipped')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    expires_at       timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    dead_at          timestamptz,
    replays          integer NOT NULL DEFAULT 0,
    UNIQUE (event_id, channel)
);
CREATE INDEX delivery_due ON delivery (next_attempt_at) WHERE status = 'pending';
CREATE INDEX delivery_dead ON delivery (dead_at, id) WHERE status = 'dead';
CREATE INDEX delivery_created ON delivery (created_at);

CREATE TABLE scheduled (
    booking_id   uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('reminder', 'no_show_warning')),
    due_at       timestamptz,
    status       text NOT NULL CHECK (status IN ('waiting', 'done', 'cancelled')),
    event        jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (booking_id, kind)
);
CREATE INDEX scheduled_due ON scheduled (due_at) WHERE status = 'waiting';
