-- depends: 0001_notify
-- The nightly retention job runs once a day whatever the number of
-- replicas: the replica that moves last_day to today runs it.
CREATE TABLE retention_run (
    job       text PRIMARY KEY,
    last_day  date NOT NULL,
    ran_at    timestamptz NOT NULL DEFAULT now()
);
