-- depends: 0002_fact_occurred_at
-- Busy times from a person's own calendar (booking's calendar sync publishes
-- calendar.busy): start and end only, never a title. One row per person: the
-- latest event replaces the whole window it covers. Erasing the person's
-- state erases it (cascade).
CREATE TABLE calendar_busy (
    person_id    uuid PRIMARY KEY REFERENCES person_state (person_id) ON DELETE CASCADE,
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    periods      jsonb NOT NULL,           -- [["start", "end"], ...] ISO 8601
    occurred_at  timestamptz NOT NULL,
    CHECK (window_start < window_end)
);
