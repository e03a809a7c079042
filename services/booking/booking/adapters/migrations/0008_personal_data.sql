-- depends: 0010_walk_in_and_desk_deadline
-- Personal data (GDPR): erasure and retention.
--
-- Erasing a person keeps their past bookings for occupancy statistics but
-- detaches them: person_id becomes NULL (the anonymous marker), the title
-- (free text) is cleared and anonymised_at records when. Walk-in bookings
-- made at a door tablet have no owner either (0010), so the owner rule is
-- widened to anonymised bookings.
--
-- Retention: how long each kind of data is kept, per organisation (a
-- missing row means the defaults below). The services' nightly jobs read
-- the cut-offs through booking.retention_cutoffs; retention_run lets one
-- replica only run a job once a day.

ALTER TABLE booking ADD COLUMN anonymised_at timestamptz;
ALTER TABLE booking DROP CONSTRAINT IF EXISTS booking_owner_unless_tablet;
ALTER TABLE booking ADD CONSTRAINT booking_owner_unless_tablet
    CHECK (person_id IS NOT NULL OR source = 'tablet' OR anonymised_at IS NOT NULL);
ALTER TABLE booking_series ALTER COLUMN person_id DROP NOT NULL;

CREATE INDEX booking_end ON booking (upper(during));

CREATE TABLE retention_policy (
    organisation_id        uuid PRIMARY KEY REFERENCES organisation (id) ON DELETE CASCADE,
    bookings_months        integer NOT NULL CHECK (bookings_months BETWEEN 1 AND 120),
    notification_log_days  integer NOT NULL CHECK (notification_log_days BETWEEN 1 AND 3650),
    audit_log_months       integer NOT NULL CHECK (audit_log_months BETWEEN 1 AND 120),
    event_log_days         integer NOT NULL CHECK (event_log_days BETWEEN 1 AND 365),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE retention_run (
    job       text PRIMARY KEY,
    last_day  date NOT NULL,
    ran_at    timestamptz NOT NULL DEFAULT now()
);
