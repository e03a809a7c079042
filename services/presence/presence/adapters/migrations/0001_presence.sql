-- Presence service store: what must never be lost (what people declared,
-- their privacy choice) and what makes event handling exact (booking
-- facts with their rank, processed event ids, the outbox).
--
-- Redis holds the derived read model (who is where today and in the coming
-- days) and can be rebuilt from here plus booking.active_bookings at any time.

-- One row per person presence knows; every change to a person's presence
-- data locks this row first, so changes to one person are serialised and
-- the read model is written in commit order.
CREATE TABLE person_state (
    person_id   uuid PRIMARY KEY,
    visibility  text NOT NULL DEFAULT 'everyone' CHECK (visibility IN ('everyone', 'teams', 'nobody')),
    version     bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Declared plan per day and half-day. No reason is ever stored.
CREATE TABLE plan_day (
    person_id   uuid NOT NULL REFERENCES person_state (person_id) ON DELETE CASCADE,
    day         date NOT NULL,
    slot        text NOT NULL CHECK (slot IN ('am', 'pm')),
    status      text NOT NULL CHECK (status IN ('on_site', 'remote', 'off', 'mission')),
    site_id     uuid,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, day, slot),
    CHECK ((status = 'on_site') = (site_id IS NOT NULL))
);
CREATE INDEX plan_day_day ON plan_day (day);

-- Weekly pattern ("remote every Friday"); ISO weekday 1 = Monday.
CREATE TABLE plan_pattern (
    person_id   uuid NOT NULL REFERENCES person_state (person_id) ON DELETE CASCADE,
    weekday     smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    slot        text NOT NULL CHECK (slot IN ('am', 'pm')),
    status      text NOT NULL CHECK (status IN ('on_site', 'remote', 'off', 'mission')),
    site_id     uuid,
    PRIMARY KEY (person_id, weekday, slot),
    CHECK ((status = 'on_site') = (site_id IS NOT NULL))
);

-- A status set with an end time; it stops applying at `until` by itself and
-- the row is purged afterwards.
CREATE TABLE temporary_status (
    person_id   uuid PRIMARY KEY REFERENCES person_state (person_id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('in_meeting', 'do_not_disturb', 'away', 'available')),
    label       text CHECK (char_length(label) <= 80),
    since       timestamptz NOT NULL,
    until       timestamptz NOT NULL,
    CHECK (since < until)
);

-- What presence keeps of each booking: the highest-ranked state seen
-- (confirmed 1 < checked_in 2 < cancelled/released/ended 3), so events
-- apply in any order. Rows are purged once their day is over.
CREATE TABLE booking_fact (
    booking_id     uuid PRIMARY KEY,
    person_id      uuid NOT NULL,
    rank           smallint NOT NULL,
    status         text NOT NULL,
    kind           text NOT NULL,
    during         tstzrange NOT NULL,
    place          jsonb NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX booking_fact_person ON booking_fact (person_id, lower(during));
CREATE INDEX booking_fact_during ON booking_fact USING gist (during);

-- Event ids already applied (redeliveries change nothing); purged after a week.
CREATE TABLE processed_event (
    event_id      uuid PRIMARY KEY,
    processed_at  timestamptz NOT NULL DEFAULT now()
);

-- Events to publish, written in the transaction of the change they describe.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    event_id      uuid NOT NULL UNIQUE,
    event_type    text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
