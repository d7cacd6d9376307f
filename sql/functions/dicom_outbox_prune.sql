-- Removes up to p_limit of the oldest events (by key) that are fanned out,
-- older than p_hours and have no delivery pending, with their delivery
-- records; returns how many. The rows are locked first and looked at
-- again by a second statement (a snapshot of its own): a replay that added
-- a pending delivery to one of them (its row locked against deletion until
-- it commits) is then seen, and the event stays. One statement would judge
-- "no delivery pending" by the snapshot taken before it waited, delete the
-- event anyway and take the replay's delivery with it. A replay that comes
-- after the lock waits, and then finds the event gone.
CREATE OR REPLACE FUNCTION dicom_outbox_prune(p_hours int, p_limit int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[];
    v_n bigint;
BEGIN
    -- the oldest rows by key, not a search by age over the whole table
    -- (created_at has no index: every store would pay for one)
    SELECT array_agg(id) INTO v_ids
      FROM (SELECT o.id FROM (SELECT id FROM outbox ORDER BY id LIMIT p_limit) h JOIN outbox o ON o.id = h.id
             WHERE o.fanned_out AND o.created_at < now() - make_interval(hours => p_hours)
               FOR UPDATE OF o) l;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM outbox o WHERE o.id = ANY (v_ids)
       AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.outbox_id = o.id AND d.status = 'pending');
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END $$;
