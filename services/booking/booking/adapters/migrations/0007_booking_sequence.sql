-- depends: 0005_device_actions
-- A per-booking revision for calendars: iCalendar's SEQUENCE.
--
-- Calendar clients that subscribe to a feed (and those that receive
-- invitations) keep the copy with the highest SEQUENCE for a UID, so the
-- number must grow whenever the booking changes in a way a calendar shows:
-- its time (moved, extended), its title, or it being called off (cancelled,
-- released). It is bumped by a trigger in the very statement that makes the
-- change, so no code path (the API, tablets, calendar sync, timers) can
-- forget it. Checking in or ending does not bump it: the slot is unchanged.
--
-- Feeds also list cancelled bookings for a while (so subscribed clients
-- remove them), reading a resource's bookings of every status: hence the
-- index by resource and start (the exclusion constraint's index only covers
-- active bookings).

ALTER TABLE booking ADD COLUMN sequence integer NOT NULL DEFAULT 0;

CREATE FUNCTION booking_bump_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.during IS DISTINCT FROM OLD.during
       OR NEW.title IS DISTINCT FROM OLD.title
       OR (NEW.status IN ('cancelled', 'released') AND NEW.status IS DISTINCT FROM OLD.status) THEN
        NEW.sequence := OLD.sequence + 1;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER booking_bump_sequence
    BEFORE UPDATE OF during, title, status ON booking
    FOR EACH ROW EXECUTE FUNCTION booking_bump_sequence();

CREATE INDEX booking_resource_start ON booking (resource_id, lower(during));
