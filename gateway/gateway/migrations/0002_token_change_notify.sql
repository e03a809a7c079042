-- depends: 0001_api_tokens
-- Tell every gateway when a token is revoked or changed, so a gateway may
-- keep tokens in memory and still refuse a revoked one at once. Updates of
-- last_used_at alone do not notify.

CREATE FUNCTION api_token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('escale_token_changed', OLD.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER api_token_changed
    AFTER UPDATE OF revoked_at, expires_at, role, site_ids, room_id, person_id, email OR DELETE
    ON api_token FOR EACH ROW EXECUTE FUNCTION api_token_changed();
