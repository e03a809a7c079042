-- Run once by the postgres image when its data volume is empty
-- (/docker-entrypoint-initdb.d). POSTGRES_DB already created escale_booking;
-- the gateway keeps its API tokens in a database of its own.
-- The migrations (`escale db upgrade`) create the tables and extensions.
CREATE DATABASE escale_gateway OWNER escale;
