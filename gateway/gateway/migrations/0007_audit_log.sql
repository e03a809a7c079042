-- depends: 0003_device_pairing
-- The audit log: administrative actions and access to other people's data.
--
-- Who (the token and, when known, the person), what (the policy action and
-- the API operation), when, on what (ids only: the entity in the path, the
-- person concerned) and the answer's status. Never free text, names or
-- emails: an entry stays harmless after the person it names is erased, and
-- it is deleted after the audit-log retention period.

CREATE TABLE audit_log (
    id                bigserial PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT now(),
    actor_token_id    uuid NULL,
    actor_person_id   uuid NULL,
    actor_role        text NOT NULL,
    action            text NOT NULL CHECK (action ~ '^[a-z_.]{1,64}$'),
    operation         text NOT NULL CHECK (operation ~ '^[a-z_0-9]{1,80}$'),
    method            text NOT NULL CHECK (method IN ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
    target            text NULL CHECK (char_length(target) <= 300),
    target_person_id  uuid NULL,
    status            smallint NOT NULL
);

CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_actor ON audit_log (actor_person_id, at);
CREATE INDEX audit_log_target_person ON audit_log (target_person_id, at);

-- The nightly retention job runs once a day whatever the number of gateways.
CREATE TABLE retention_run (
    job       text PRIMARY KEY,
    last_day  date NOT NULL,
    ran_at    timestamptz NOT NULL DEFAULT now()
);
