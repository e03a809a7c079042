-- depends: 0003_device_pairing
-- Floor plan images (SVG or PNG) uploaded by administrators, one per floor.
--
-- The booking service owns floors and desk coordinates; the image is only
-- the backdrop the web app draws desks on, so it lives with the gateway that
-- serves it. width and height are the image's own units: desks' x, y are
-- in the same units (the upload also copies them to the floor's
-- plan_width / plan_height in the booking service).

CREATE TABLE floor_plan (
    floor_id      uuid PRIMARY KEY,
    content_type  text NOT NULL CHECK (content_type IN ('image/svg+xml', 'image/png')),
    width         real NOT NULL CHECK (width > 0),
    height        real NOT NULL CHECK (height > 0),
    data          bytea NOT NULL,
    sha256        text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL DEFAULT ''
);
