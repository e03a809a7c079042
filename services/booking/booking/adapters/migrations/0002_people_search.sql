-- depends: 0001_catalog_people_bookings
-- Accent- and case-insensitive people search: "helene" finds "Marie-Hélène".
-- unaccent() is not immutable, so the folded text is kept by a trigger.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE person ADD COLUMN search_text text NOT NULL DEFAULT '';

CREATE FUNCTION person_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := lower(public.unaccent(
        concat_ws(' ', NEW.display_name, NEW.given_name, NEW.family_name, NEW.email, NEW.department)));
    RETURN NEW;
END
$$;

CREATE TRIGGER person_search_text BEFORE INSERT OR UPDATE ON person
    FOR EACH ROW EXECUTE FUNCTION person_search_text();

UPDATE person SET search_text = '';
CREATE INDEX person_search_trgm ON person USING gin (search_text gin_trgm_ops);
