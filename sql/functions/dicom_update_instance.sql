-- One instance of a bulk update: its new version (the file already durable
-- at p_new) takes the place of version p_old in one transaction: the
-- instance row (keeping its original version's file and metadata), bulk
-- data metadata, study and series attributes, extended query tag values,
-- an Update change feed entry (earlier ones Replaced), a DicomImageUpdated
-- event, and the operation's item marked done. status: 'updated', with
-- remove the watermark of an intermediate version whose file goes (NULL
-- when p_old was the original, which stays); 'gone' when p_old is no
-- longer the instance's version (deleted or replaced meanwhile), with
-- remove = p_new.
CREATE OR REPLACE FUNCTION dicom_update_instance(p_op uuid, p_old bigint, p_new bigint, p_size bigint, p_metadata text,
                                                 p_metadata_bulk text, p_host text, p_topic text,
                                                 OUT status text, OUT remove bigint)
LANGUAGE plpgsql AS $$
DECLARE
    i instance%ROWTYPE;
    v_bulk text;
    v_meta jsonb := p_metadata::jsonb;
    v_partition text;
    v_study bigint;
    v_seq bigint;
    v_time timestamptz;
BEGIN
    -- the study first, as a DELETE takes it (then the instance, then its
    -- series and study rows), so that the two wait for each other instead
    -- of deadlocking; a store holds it only against deletion
    PERFORM 1 FROM study st JOIN series se USING (study_key) JOIN instance x ON x.series_key = se.series_key
     WHERE x.watermark = p_old FOR NO KEY UPDATE OF st;
    SELECT * INTO i FROM instance WHERE watermark = p_old FOR UPDATE;
    IF NOT FOUND THEN
        UPDATE operation_item SET status = 'gone' WHERE operation_id = p_op AND watermark = p_old;
        status := 'gone';
        remove := p_new;
        RETURN;
    END IF;
    SELECT metadata INTO v_bulk FROM instance_bulk WHERE watermark = p_old;
    SELECT partition_name INTO v_partition FROM partition WHERE partition_key = i.partition_key;
    DELETE FROM instance WHERE watermark = p_old;
    INSERT INTO instance (watermark, series_key, partition_key, study_uid, series_uid, sop_uid, sop_class_uid,
                          transfer_syntax, file_size, metadata, head, created_at, original_watermark, original_file_size,
                          original_metadata, original_metadata_bulk)
    VALUES (p_new, i.series_key, i.partition_key, i.study_uid, i.series_uid, i.sop_uid, i.sop_class_uid,
            i.transfer_syntax, p_size, p_metadata, dicom_pick(v_meta, dicom_head_tags()), i.created_at, COALESCE(i.original_watermark, i.watermark),
            COALESCE(i.original_file_size, i.file_size), COALESCE(i.original_metadata, i.metadata),
            CASE WHEN i.original_watermark IS NULL THEN v_bulk ELSE i.original_metadata_bulk END);
    IF p_metadata_bulk IS NOT NULL THEN
        INSERT INTO instance_bulk (watermark, metadata) VALUES (p_new, p_metadata_bulk);
    END IF;
    remove := CASE WHEN i.original_watermark IS NULL THEN NULL ELSE p_old END;

    -- the study and series show the new values
    UPDATE series SET attrs = attrs || dicom_valued(v_meta, dicom_level_tags(2))
     WHERE series_key = i.series_key
    RETURNING study_key INTO v_study;
    UPDATE study SET
        patient_id = COALESCE(NULLIF(dicom_json_first(v_meta, '00100020'), ''), patient_id),
        patient_name = COALESCE(NULLIF(dicom_json_first(v_meta, '00100010'), ''), patient_name),
        patient_birth_date = COALESCE(NULLIF(dicom_json_first(v_meta, '00100030'), ''), patient_birth_date),
        accession_number = COALESCE(NULLIF(dicom_json_first(v_meta, '00080050'), ''), accession_number),
        referring_physician_name = COALESCE(NULLIF(dicom_json_first(v_meta, '00080090'), ''),
                                            referring_physician_name),
        study_description = COALESCE(NULLIF(dicom_json_first(v_meta, '00081030'), ''), study_description),
        attrs = attrs || dicom_valued(v_meta, dicom_level_tags(1))
     WHERE study_key = v_study;

    UPDATE changefeed SET current_watermark = p_new
     WHERE partition_key = i.partition_key AND study_uid = i.study_uid AND series_uid = i.series_uid
       AND sop_uid = i.sop_uid;
    INSERT INTO changefeed (partition_key, study_uid, series_uid, sop_uid, action, original_watermark,
                            current_watermark)
    VALUES (i.partition_key, i.study_uid, i.series_uid, i.sop_uid, 2, p_new, p_new)
    RETURNING sequence, "timestamp" INTO v_seq, v_time;
    PERFORM dicom_event('Microsoft.HealthcareApis.DicomImageUpdated', v_partition, i.study_uid, i.series_uid,
                        i.sop_uid, v_seq, v_time, p_host, p_topic);
    PERFORM dicom_eqt_index(t.tag_key, p_new - 1, p_new)
       FROM extended_query_tag t WHERE t.status IN ('adding', 'ready');
    UPDATE operation_item SET status = 'updated' WHERE operation_id = p_op AND watermark = p_old;
    status := 'updated';
END $$;
