-- depends: 0001_presence
-- booking.updated (a booking extended, moved) keeps the state's rank: among
-- facts of equal rank the one that happened last wins. Facts from the
-- booking service's snapshot carry the snapshot's time.
ALTER TABLE booking_fact ADD COLUMN occurred_at timestamptz;
