-- depends: 0002_people_search
-- How to reach a person, beyond the phone extension: softphone (a tel: or
-- sip: address), a personal video-meeting link, a chat handle, and the
-- channel they prefer. Read by the presence service ("where is X, how do I
-- reach them") through booking.export_people; set by the person through
-- booking.update_contact.
--
-- updated_at now also moves when a person's teams change (or a team of
-- theirs is renamed), so consumers can sync the directory incrementally.

ALTER TABLE person
    ADD COLUMN softphone          text NOT NULL DEFAULT '' CHECK (char_length(softphone) <= 200),
    ADD COLUMN video_url          text NOT NULL DEFAULT '' CHECK (video_url = '' OR video_url LIKE 'https://%'),
    ADD COLUMN chat_handle        text NOT NULL DEFAULT '' CHECK (char_length(chat_handle) <= 200),
    ADD COLUMN preferred_channel  text NOT NULL DEFAULT ''
        CHECK (preferred_channel IN ('', 'phone', 'softphone', 'video', 'chat', 'email'));

CREATE INDEX person_updated_at ON person (updated_at, id);

CREATE FUNCTION touch_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE person SET updated_at = now()
     WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.person_id ELSE NEW.person_id END;
    RETURN NULL;
END
$$;
CREATE TRIGGER team_member_touch AFTER INSERT OR DELETE ON team_member
    FOR EACH ROW EXECUTE FUNCTION touch_member();

CREATE FUNCTION touch_team_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name IS DISTINCT FROM OLD.name OR NEW.code IS DISTINCT FROM OLD.code THEN
        UPDATE person SET updated_at = now()
         WHERE id IN (SELECT person_id FROM team_member WHERE team_id = NEW.id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER team_touch AFTER UPDATE ON team
    FOR EACH ROW EXECUTE FUNCTION touch_team_members();
