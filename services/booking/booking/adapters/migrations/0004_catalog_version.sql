-- depends: 0003_people_contacts
-- A number that changes whenever the place tree changes, so each booking
-- process can keep parsed resources in memory and check them with one cheap
-- read instead of re-reading hundreds of rows per availability request.

CREATE TABLE catalog_version (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version   bigint NOT NULL
);
INSERT INTO catalog_version VALUES (true, 1);

CREATE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER site_changes AFTER INSERT OR UPDATE OR DELETE ON site
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
CREATE TRIGGER building_changes AFTER INSERT OR UPDATE OR DELETE ON building
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
CREATE TRIGGER floor_changes AFTER INSERT OR UPDATE OR DELETE ON floor
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
CREATE TRIGGER zone_changes AFTER INSERT OR UPDATE OR DELETE ON zone
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
CREATE TRIGGER resource_changes AFTER INSERT OR UPDATE OR DELETE ON resource
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
