-- depends: 0005_device_actions
-- Door tablets book a room "now" for whoever stands at the door: such a
-- walk-in booking has no owner (person_id NULL, source 'tablet', the device
-- recorded in device_action). Every other booking keeps its person. The
-- "one desk per person" exclusion ignores NULLs (NULL = NULL is not true).
ALTER TABLE booking ALTER COLUMN person_id DROP NOT NULL;
ALTER TABLE booking ADD CONSTRAINT booking_owner_unless_tablet
    CHECK (person_id IS NOT NULL OR source = 'tablet');

-- A site may release unchecked bookings at a local time of their day
-- ("check in by 10:00"), next to release_after_minutes; NULL: no deadline.
ALTER TABLE booking_rule ADD COLUMN checkin_deadline time;
