-- Deleting the latest instance of a series or study makes the latest of
-- those left the one QIDO orders by. Answers the watermarks whose files go:
-- each instance's, and the original version of an updated one.
CREATE OR REPLACE FUNCTION dicom_delete(p_partition text, p_study text, p_series text, p_sop text,
                                        p_host text, p_topic text)
RETURNS SETOF bigint LANGUAGE plpgsql AS $$
DECLARE
    v_pk int := dicom_partition_key(p_partition, false);
    r record;
    v_seq bigint;
    v_time timestamptz;
    v_series_keys bigint[];
BEGIN
    IF v_pk IS NULL THEN
        RETURN;
    END IF;
    -- the study first, as expiry takes it: a store holds it (FOR KEY SHARE)
    -- before it touches an instance row, so that a store and a delete of
    -- the same study wait for each other instead of deadlocking
    PERFORM 1 FROM study WHERE partition_key = v_pk AND study_uid = p_study FOR UPDATE;
    FOR r IN
        DELETE FROM instance
         WHERE partition_key = v_pk AND study_uid = p_study
           AND (p_series IS NULL OR series_uid = p_series)
           AND (p_sop IS NULL OR sop_uid = p_sop)
        RETURNING watermark, original_watermark, series_key, study_uid, series_uid, sop_uid
    LOOP
        v_series_keys := array_append(v_series_keys, r.series_key);
        UPDATE changefeed SET current_watermark = NULL
         WHERE partition_key = v_pk AND study_uid = r.study_uid AND series_uid = r.series_uid
           AND sop_uid = r.sop_uid;
        INSERT INTO changefeed (partition_key, study_uid, series_uid, sop_uid, action,
                                original_watermark, current_watermark)
        VALUES (v_pk, r.study_uid, r.series_uid, r.sop_uid, 1, r.watermark, NULL)
        RETURNING sequence, "timestamp" INTO v_seq, v_time;
        PERFORM dicom_event('Microsoft.HealthcareApis.DicomImageDeleted', p_partition, r.study_uid,
                            r.series_uid, r.sop_uid, v_seq, v_time, p_host, p_topic);
        RETURN NEXT r.watermark;
        IF r.original_watermark IS NOT NULL THEN
            RETURN NEXT r.original_watermark;
        END IF;
    END LOOP;
    DELETE FROM series s
     WHERE s.series_key = ANY (v_series_keys)
       AND NOT EXISTS (SELECT 1 FROM instance i WHERE i.series_key = s.series_key);
    DELETE FROM study st
     WHERE st.partition_key = v_pk AND st.study_uid = p_study
       AND NOT EXISTS (SELECT 1 FROM series s WHERE s.study_key = st.study_key);
END $$;
