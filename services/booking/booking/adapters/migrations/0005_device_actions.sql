-- depends: 0004_catalog_version
-- What door tablets did: one row per action taken from a device (check in,
-- end early...), with the device's id (its gateway token id), so every
-- action from a tablet is traceable without pretending a person did it.

CREATE TABLE device_action (
    id          bigserial PRIMARY KEY,
    booking_id  uuid NOT NULL REFERENCES booking (id) ON DELETE CASCADE,
    device_id   uuid NOT NULL,
    action      text NOT NULL CHECK (action IN ('book', 'check_in', 'end', 'extend')),
    at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX device_action_booking ON device_action (booking_id);
CREATE INDEX device_action_device ON device_action (device_id, at);
