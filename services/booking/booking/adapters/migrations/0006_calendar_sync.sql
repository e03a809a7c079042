-- depends: 0005_device_actions 0010_walk_in_and_desk_deadline 0008_personal_data
-- Calendar sync (issue 7): which calendar server each site talks to, which
-- remote calendar mirrors which room, which calendar tells an agent's busy
-- times, where each calendar's incremental sync stands, and which remote item
-- is which booking.
--
-- Credentials are never stored here: a connection names a reference
-- (``credentials_ref``) and the booking service reads
-- ESCALE_CALENDAR_<REF>_USERNAME / _PASSWORD / ... from its environment.

-- A meeting put in a room's calendar by someone Escale does not know (a
-- visitor, an external organiser) still blocks the room: such a booking has
-- no owner, like a walk-in at the door (0010). Its organiser's address is
-- kept on its calendar_link. (Runs after 0010 and 0008, which shaped this
-- constraint before: walk-ins and anonymised bookings keep their exemption.)
ALTER TABLE booking DROP CONSTRAINT IF EXISTS booking_owner_unless_tablet;
ALTER TABLE booking ADD CONSTRAINT booking_owner_unless_tablet
    CHECK (person_id IS NOT NULL OR source IN ('tablet', 'calendar') OR anonymised_at IS NOT NULL);

CREATE TABLE calendar_connection (
    site_id            uuid PRIMARY KEY REFERENCES site (id),
    backend            text NOT NULL CHECK (backend IN ('none', 'caldav', 'ews', 'graph')),
    url                text,
    credentials_ref    text CHECK (credentials_ref ~ '^[A-Za-z0-9_-]{1,64}$'),
    options            jsonb NOT NULL DEFAULT '{}',
    dry_run            boolean NOT NULL DEFAULT false,
    enabled            boolean NOT NULL DEFAULT true,
    interval_seconds   integer NOT NULL DEFAULT 60 CHECK (interval_seconds BETWEEN 5 AND 86400),
    -- Who owns a meeting whose organiser is nobody Escale knows (NULL: no owner).
    fallback_person_id uuid REFERENCES person (id),
    -- The timer claims a due site by moving next_run_at and taking a lease
    -- (FOR UPDATE SKIP LOCKED), so one replica runs a site's round at a time.
    next_run_at        timestamptz NOT NULL DEFAULT now(),
    lease_until        timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calendar_connection_due ON calendar_connection (next_run_at) WHERE enabled;

-- One remote calendar per room; its incremental sync state.
CREATE TABLE calendar_room (
    resource_id      uuid PRIMARY KEY REFERENCES resource (id),
    site_id          uuid NOT NULL REFERENCES calendar_connection (site_id) ON DELETE CASCADE,
    calendar_ref     text NOT NULL,
    sync_token       text,
    token_at         timestamptz,
    last_full_at     timestamptz,
    last_error       text,
    UNIQUE (site_id, calendar_ref)
);
CREATE INDEX calendar_room_site ON calendar_room (site_id);

-- An agent's own calendar, read for busy times only (never titles).
CREATE TABLE calendar_person (
    person_id     uuid PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    site_id       uuid NOT NULL REFERENCES calendar_connection (site_id) ON DELETE CASCADE,
    calendar_ref  text NOT NULL,
    busy_digest   text,          -- what was last published, to publish changes only
    busy_at       timestamptz
);
CREATE INDEX calendar_person_site ON calendar_person (site_id);

-- Which remote item (and which occurrence of a series: ``occurrence`` is the
-- RECURRENCE-ID in UTC, '' for a single item) is which booking.
-- ``origin`` says who created it: 'remote' (imported) or 'escale' (pushed).
-- ``booking_version`` is the booking's version the remote side last agreed
-- with: a booking whose version moved past it is pushed again.
CREATE TABLE calendar_link (
    id               bigserial PRIMARY KEY,
    resource_id      uuid NOT NULL REFERENCES resource (id),
    remote_id        text NOT NULL,
    occurrence       text NOT NULL DEFAULT '',
    uid              text,
    etag             text,
    booking_id       uuid REFERENCES booking (id) ON DELETE CASCADE,
    origin           text NOT NULL CHECK (origin IN ('remote', 'escale')),
    state            text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'gone', 'rejected')),
    organiser_email  text,
    remote_created   timestamptz,
    booking_version  integer NOT NULL DEFAULT 0,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (resource_id, remote_id, occurrence)
);
CREATE UNIQUE INDEX calendar_link_booking ON calendar_link (booking_id) WHERE booking_id IS NOT NULL;

-- One row per sync round, for admins and the benchmark.
CREATE TABLE calendar_sync_run (
    id            bigserial PRIMARY KEY,
    site_id       uuid NOT NULL REFERENCES calendar_connection (site_id) ON DELETE CASCADE,
    trigger       text NOT NULL CHECK (trigger IN ('timer', 'manual')),
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'partial', 'failed')),
    calls         integer NOT NULL DEFAULT 0,
    counts        jsonb NOT NULL DEFAULT '{}',
    error         text
);
CREATE INDEX calendar_sync_run_site ON calendar_sync_run (site_id, started_at DESC);
