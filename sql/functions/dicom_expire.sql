-- Deletes one study whose expiry time has passed, as DELETE does (change
-- feed Delete entries, DicomImageDeleted events), and returns the
-- watermarks whose files are to be removed; none when no study is due. The
-- study row stays locked until commit: a STOW to it meanwhile waits, then
-- makes the study again.
CREATE OR REPLACE FUNCTION dicom_expire(p_host text, p_topic text) RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_partition text;
    v_study text;
BEGIN
    SELECT p.partition_name, s.study_uid INTO v_partition, v_study
      FROM study s JOIN partition p USING (partition_key)
     WHERE s.expires_at <= clock_timestamp()
     ORDER BY s.expires_at LIMIT 1 FOR UPDATE OF s SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM dicom_delete(v_partition, v_study, NULL, NULL, p_host, p_topic);
END $$;
