-- Booking service store: the place tree, people and teams, rules, bookings and the outbox.
--
-- The database is the last line of defence against double bookings: the two
-- EXCLUDE constraints below make overlapping active bookings of one resource,
-- and two desks held by one person at the same time, impossible whatever the
-- application does. Intervals are half-open [start, end) so back-to-back
-- bookings never overlap.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE organisation (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE site (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id      uuid NOT NULL REFERENCES organisation (id),
    code                 text NOT NULL,
    name                 text NOT NULL,
    address              text NOT NULL DEFAULT '',
    timezone             text NOT NULL DEFAULT 'Europe/Paris',
    opening_time         time NOT NULL DEFAULT '07:30',
    midday_time          time NOT NULL DEFAULT '13:00',
    closing_time         time NOT NULL DEFAULT '20:00',
    -- ISO weekdays (1 = Monday ... 7 = Sunday) on which the site is closed.
    closed_weekdays      smallint[] NOT NULL DEFAULT '{6,7}',
    closed_dates         date[] NOT NULL DEFAULT '{}',
    holiday_country      text NOT NULL DEFAULT 'FR',
    holiday_subdivision  text,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation_id, code),
    CHECK (opening_time < midday_time AND midday_time < closing_time)
);

CREATE TABLE building (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid NOT NULL REFERENCES site (id),
    code        text NOT NULL,
    name        text NOT NULL,
    address     text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, code)
);

CREATE TABLE floor (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    building_id  uuid NOT NULL REFERENCES building (id),
    code         text NOT NULL,
    name         text NOT NULL,
    level        integer NOT NULL DEFAULT 0,
    plan_width   integer NOT NULL DEFAULT 1000,
    plan_height  integer NOT NULL DEFAULT 600,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (building_id, code)
);

CREATE TABLE team (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id  uuid NOT NULL REFERENCES organisation (id),
    code             text NOT NULL,
    name             text NOT NULL,
    department       text NOT NULL DEFAULT '',
    UNIQUE (organisation_id, code)
);

CREATE TABLE zone (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    floor_id    uuid NOT NULL REFERENCES floor (id),
    code        text NOT NULL,
    name        text NOT NULL,
    -- The team this zone is set aside for, used to suggest "a desk near my team".
    team_id     uuid REFERENCES team (id),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (floor_id, code)
);

CREATE TABLE resource (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Denormalised from zone > floor > building so that codes are unique per
    -- site and availability queries filter without walking the tree.
    site_id              uuid NOT NULL REFERENCES site (id),
    floor_id             uuid NOT NULL REFERENCES floor (id),
    zone_id              uuid NOT NULL REFERENCES zone (id),
    kind                 text NOT NULL CHECK (kind IN ('desk', 'room', 'equipment')),
    code                 text NOT NULL,
    name                 text NOT NULL,
    capacity             integer NOT NULL DEFAULT 1 CHECK (capacity >= 1),
    attributes           jsonb NOT NULL DEFAULT '{}',
    restricted_team_ids  uuid[] NOT NULL DEFAULT '{}',
    x                    real,
    y                    real,
    active               boolean NOT NULL DEFAULT true,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, code)
);
CREATE INDEX resource_floor ON resource (floor_id, kind) WHERE active;

CREATE TABLE person (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id  uuid NOT NULL REFERENCES organisation (id),
    email            text NOT NULL,
    given_name       text NOT NULL DEFAULT '',
    family_name      text NOT NULL DEFAULT '',
    display_name     text NOT NULL,
    department       text NOT NULL DEFAULT '',
    job_title        text NOT NULL DEFAULT '',
    phone_extension  text NOT NULL DEFAULT '',
    language         text NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'en')),
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX person_email ON person (lower(email));

CREATE TABLE team_member (
    team_id    uuid NOT NULL REFERENCES team (id) ON DELETE CASCADE,
    person_id  uuid NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, person_id)
);
CREATE INDEX team_member_person ON team_member (person_id);

-- Booking rules per site and resource kind; a missing row means the defaults
-- in booking.domain.rules.
CREATE TABLE booking_rule (
    site_id                       uuid NOT NULL REFERENCES site (id),
    resource_kind                 text NOT NULL CHECK (resource_kind IN ('desk', 'room', 'equipment')),
    max_days_ahead                integer NOT NULL CHECK (max_days_ahead BETWEEN 0 AND 3660),
    max_recurring_days_ahead      integer NOT NULL CHECK (max_recurring_days_ahead BETWEEN 0 AND 3660),
    max_duration_minutes          integer NOT NULL CHECK (max_duration_minutes BETWEEN 5 AND 1440),
    checkin_opens_minutes_before  integer NOT NULL CHECK (checkin_opens_minutes_before BETWEEN 0 AND 240),
    release_after_minutes         integer NOT NULL CHECK (release_after_minutes BETWEEN 0 AND 1440),
    updated_at                    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, resource_kind)
);

CREATE TABLE booking_series (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    resource_id  uuid NOT NULL REFERENCES resource (id),
    person_id    uuid NOT NULL REFERENCES person (id),
    rrule        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE booking (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    resource_id    uuid NOT NULL REFERENCES resource (id),
    resource_kind  text NOT NULL,
    person_id      uuid NOT NULL REFERENCES person (id),
    during         tstzrange NOT NULL,
    status         text NOT NULL DEFAULT 'confirmed'
                   CHECK (status IN ('confirmed', 'checked_in', 'ended', 'cancelled', 'released')),
    period         text NOT NULL DEFAULT 'slot' CHECK (period IN ('day', 'morning', 'afternoon', 'slot')),
    title          text NOT NULL DEFAULT '',
    series_id      uuid REFERENCES booking_series (id),
    source         text NOT NULL DEFAULT 'api',
    created_by     uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    checked_in_at  timestamptz,
    ended_at       timestamptz,
    version        integer NOT NULL DEFAULT 1,
    CONSTRAINT booking_interval_half_open
        CHECK (NOT isempty(during) AND lower_inc(during) AND NOT upper_inc(during)
               AND NOT lower_inf(during) AND NOT upper_inf(during)),
    CONSTRAINT booking_no_overlap
        EXCLUDE USING gist (resource_id WITH =, during WITH &&)
        WHERE (status IN ('confirmed', 'checked_in')),
    CONSTRAINT booking_one_desk_per_person
        EXCLUDE USING gist (person_id WITH =, during WITH &&)
        WHERE (status IN ('confirmed', 'checked_in') AND resource_kind = 'desk')
);
CREATE INDEX booking_person_start ON booking (person_id, lower(during));
CREATE INDEX booking_by_series ON booking (series_id) WHERE series_id IS NOT NULL;
CREATE INDEX booking_active_start ON booking (lower(during)) WHERE status IN ('confirmed', 'checked_in');

-- A retried create with the same key returns the stored first answer.
CREATE TABLE idempotency_key (
    person_id     uuid NOT NULL,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    response      jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, key)
);

-- Transactional outbox: every change writes its event in the same
-- transaction; the relay publishes pending rows and stamps them.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    event_id      uuid NOT NULL UNIQUE,
    event_type    text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
