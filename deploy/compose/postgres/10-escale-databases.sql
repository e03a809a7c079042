-- Run once by the postgres image when its data volume is empty
-- (/docker-entrypoint-initdb.d). POSTGRES_DB already created escale_booking;
-- the gateway keeps its API tokens in a database of its own, and notify its
-- preferences and message ledger in another, presence its plans in a third.
-- The migrations (`escale db upgrade`) create the tables and extensions.
CREATE DATABASE escale_gateway OWNER escale;
CREATE DATABASE escale_notify OWNER escale;
CREATE DATABASE escale_presence OWNER escale;
