-- Stores one instance: its study, series and instance rows, its bulk data
-- metadata, its change feed row, its event, and its extended query tag
-- values. Answers the change feed sequence, NULL when the instance already
-- exists (a concurrent store of the same instance fails with
-- unique_violation instead); with p.upsert an existing instance is
-- replaced instead: its rows go, its change feed entries become Replaced,
-- and replaced lists its versions (the latest, and the original of an
-- updated one), whose files the caller removes after the commit.
CREATE OR REPLACE FUNCTION dicom_store(p dicom_instance_in, OUT sequence bigint, OUT replaced bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    v_pk int := dicom_partition_key(p.partition_name, true);
    v_study bigint;
    v_series bigint;
    v_seq bigint;
    v_time timestamptz;
    v_meta jsonb;
    v_head jsonb; -- its head (sql/017): the study and series attributes are among it
    v_old bigint;
    v_original bigint;
BEGIN
    -- the metadata as later queries read it: an instance whose metadata
    -- jsonb refuses is refused here (22P02), not left to break them
    v_meta := p.metadata::jsonb;
    v_head := dicom_pick(v_meta, dicom_head_tags());
    PERFORM p.metadata_bulk::jsonb;
    SELECT watermark, original_watermark INTO v_old, v_original FROM instance
     WHERE partition_key = v_pk AND study_uid = p.study_uid AND series_uid = p.series_uid AND sop_uid = p.sop_uid
       FOR UPDATE;
    IF FOUND THEN
        IF NOT COALESCE(p.upsert, false) THEN
            RETURN;
        END IF;
        -- its bulk data, frame ranges and extended query tag values go with it
        DELETE FROM instance WHERE watermark = v_old;
        replaced := array_remove(ARRAY[v_old, v_original], NULL);
    END IF;
    -- study and series attributes follow the latest stored instance that
    -- has a value for them (AddInstanceV6: ISNULL)
    INSERT INTO study AS s (partition_key, study_uid, patient_id, patient_name, patient_birth_date,
                           accession_number, referring_physician_name, study_date, study_description,
                           last_watermark, attrs, expires_at)
    VALUES (v_pk, p.study_uid, NULLIF(p.patient_id, ''), NULLIF(p.patient_name, ''),
            NULLIF(p.patient_birth_date, ''), NULLIF(p.accession_number, ''),
            NULLIF(p.referring_physician_name, ''), NULLIF(p.study_date, ''), NULLIF(p.study_description, ''),
            p.watermark, dicom_valued(v_head, dicom_level_tags(1)),
            clock_timestamp() + p.expiry_ms * interval '1 millisecond')
    ON CONFLICT (partition_key, study_uid) DO UPDATE SET
        patient_id = COALESCE(EXCLUDED.patient_id, s.patient_id),
        patient_name = COALESCE(EXCLUDED.patient_name, s.patient_name),
        patient_birth_date = COALESCE(EXCLUDED.patient_birth_date, s.patient_birth_date),
        accession_number = COALESCE(EXCLUDED.accession_number, s.accession_number),
        referring_physician_name = COALESCE(EXCLUDED.referring_physician_name, s.referring_physician_name),
        study_date = COALESCE(EXCLUDED.study_date, s.study_date),
        study_description = COALESCE(EXCLUDED.study_description, s.study_description),
        last_watermark = EXCLUDED.last_watermark,
        attrs = s.attrs || EXCLUDED.attrs,
        -- the last STOW decides: without expiry headers it clears it
        expires_at = EXCLUDED.expires_at
    RETURNING study_key INTO v_study;

    INSERT INTO series AS s (study_key, series_uid, modality, performed_procedure_step_start_date,
                            manufacturer_model_name, last_watermark, attrs)
    VALUES (v_study, p.series_uid, NULLIF(p.modality, ''), NULLIF(p.pps_start_date, ''),
            NULLIF(p.manufacturer_model_name, ''), p.watermark, dicom_valued(v_head, dicom_level_tags(2)))
    ON CONFLICT (study_key, series_uid) DO UPDATE SET
        modality = COALESCE(EXCLUDED.modality, s.modality),
        performed_procedure_step_start_date = COALESCE(EXCLUDED.performed_procedure_step_start_date,
                                                       s.performed_procedure_step_start_date),
        manufacturer_model_name = COALESCE(EXCLUDED.manufacturer_model_name, s.manufacturer_model_name),
        last_watermark = EXCLUDED.last_watermark,
        attrs = s.attrs || EXCLUDED.attrs
    RETURNING series_key INTO v_series;

    INSERT INTO instance (watermark, series_key, partition_key, study_uid, series_uid, sop_uid,
                          sop_class_uid, transfer_syntax, file_size, metadata, frame_ranges, head)
    VALUES (p.watermark, v_series, v_pk, p.study_uid, p.series_uid, p.sop_uid, p.sop_class_uid,
            p.transfer_syntax, p.file_size, p.metadata, p.frame_ranges, v_head);
    IF p.metadata_bulk IS NOT NULL THEN
        INSERT INTO instance_bulk (watermark, metadata) VALUES (p.watermark, p.metadata_bulk);
    END IF;

    UPDATE changefeed SET current_watermark = p.watermark
     WHERE partition_key = v_pk AND study_uid = p.study_uid AND series_uid = p.series_uid
       AND sop_uid = p.sop_uid;
    INSERT INTO changefeed (partition_key, study_uid, series_uid, sop_uid, action,
                            original_watermark, current_watermark)
    VALUES (v_pk, p.study_uid, p.series_uid, p.sop_uid, 0, p.watermark, p.watermark)
    RETURNING changefeed.sequence, "timestamp" INTO v_seq, v_time;

    PERFORM dicom_event('Microsoft.HealthcareApis.DicomImageCreated', p.partition_name, p.study_uid,
                        p.series_uid, p.sop_uid, v_seq, v_time, p.event_host, p.event_topic);
    -- extended query tags, ready or being added, index the new instance now
    PERFORM dicom_eqt_index(t.tag_key, p.watermark - 1, p.watermark)
       FROM extended_query_tag t WHERE t.status IN ('adding', 'ready');
    sequence := v_seq;
END $$;
