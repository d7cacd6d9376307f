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
    v_study_attrs jsonb;
    v_series_attrs jsonb;
    v_new_study boolean := false;
    v_new_series boolean := false;
    v_st study;
    v_se series;
    v_expires timestamptz := clock_timestamp() + p.expiry_ms * interval '1 millisecond';
    v_old bigint;
    v_original bigint;
BEGIN
    -- the metadata as later queries read it: an instance whose metadata
    -- jsonb refuses is refused here (22P02), not left to break them
    v_meta := p.metadata::jsonb;
    -- (the picks are written out here, not called: a plpgsql statement
    -- keeps its plan, an SQL function called from one is planned anew
    -- at every call)
    SELECT COALESCE(jsonb_object_agg(k, v), '{}'::jsonb) INTO v_head
      FROM jsonb_each(v_meta) AS e(k, v) WHERE k = ANY (dicom_head_tags());
    PERFORM p.metadata_bulk::jsonb;
    -- the study's and the series' attributes of this instance
    SELECT COALESCE(jsonb_object_agg(k, v) FILTER (WHERE k = ANY (dicom_level_tags(1))), '{}'::jsonb),
           COALESCE(jsonb_object_agg(k, v) FILTER (WHERE k = ANY (dicom_level_tags(2))), '{}'::jsonb)
      INTO v_study_attrs, v_series_attrs
      FROM jsonb_each(v_head) AS e(k, v)
     WHERE dicom_has_value(v);
    -- the study and the series: found or made here, held against deletion
    -- (FOR KEY SHARE) but not against other stores; an existing one's row
    -- is updated at the end, and only when an attribute changes
    LOOP
        SELECT * INTO v_st FROM study
         WHERE partition_key = v_pk AND study_uid = p.study_uid FOR KEY SHARE;
        v_study := v_st.study_key;
        EXIT WHEN FOUND;
        INSERT INTO study (partition_key, study_uid, patient_id, patient_name, patient_birth_date,
                           accession_number, referring_physician_name, study_date, study_description,
                           attrs, expires_at)
        VALUES (v_pk, p.study_uid, NULLIF(p.patient_id, ''), NULLIF(p.patient_name, ''),
                NULLIF(p.patient_birth_date, ''), NULLIF(p.accession_number, ''),
                NULLIF(p.referring_physician_name, ''), NULLIF(p.study_date, ''), NULLIF(p.study_description, ''),
                v_study_attrs, v_expires)
        ON CONFLICT (partition_key, study_uid) DO NOTHING
        RETURNING study_key INTO v_study;
        v_new_study := FOUND;
        EXIT WHEN v_new_study;
    END LOOP;
    LOOP
        SELECT * INTO v_se FROM series
         WHERE study_key = v_study AND series_uid = p.series_uid FOR KEY SHARE;
        v_series := v_se.series_key;
        EXIT WHEN FOUND;
        INSERT INTO series (study_key, series_uid, modality, performed_procedure_step_start_date,
                            manufacturer_model_name, attrs)
        VALUES (v_study, p.series_uid, NULLIF(p.modality, ''), NULLIF(p.pps_start_date, ''),
                NULLIF(p.manufacturer_model_name, ''), v_series_attrs)
        ON CONFLICT (study_key, series_uid) DO NOTHING
        RETURNING series_key INTO v_series;
        v_new_series := FOUND;
        EXIT WHEN v_new_series;
    END LOOP;
    -- the instance itself after its study and series, in the order a
    -- DELETE takes them (the study first), so that the two wait for each
    -- other instead of deadlocking
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
    -- study and series attributes follow the latest stored instance that
    -- has a value for them (AddInstanceV6: ISNULL); the series first, as
    -- delete and update lock them
    IF NOT v_new_series AND (dicom_changes(p.modality, v_se.modality)
            OR dicom_changes(p.pps_start_date, v_se.performed_procedure_step_start_date)
            OR dicom_changes(p.manufacturer_model_name, v_se.manufacturer_model_name)
            OR v_se.attrs || v_series_attrs <> v_se.attrs) THEN
        UPDATE series s SET
            modality = COALESCE(NULLIF(p.modality, ''), s.modality),
            performed_procedure_step_start_date = COALESCE(NULLIF(p.pps_start_date, ''),
                                                           s.performed_procedure_step_start_date),
            manufacturer_model_name = COALESCE(NULLIF(p.manufacturer_model_name, ''), s.manufacturer_model_name),
            attrs = s.attrs || v_series_attrs
         WHERE series_key = v_series;
    END IF;
    IF NOT v_new_study AND (dicom_changes(p.patient_id, v_st.patient_id)
            OR dicom_changes(p.patient_name, v_st.patient_name)
            OR dicom_changes(p.patient_birth_date, v_st.patient_birth_date)
            OR dicom_changes(p.accession_number, v_st.accession_number)
            OR dicom_changes(p.referring_physician_name, v_st.referring_physician_name)
            OR dicom_changes(p.study_date, v_st.study_date)
            OR dicom_changes(p.study_description, v_st.study_description)
            OR v_st.attrs || v_study_attrs <> v_st.attrs
            OR v_expires IS DISTINCT FROM v_st.expires_at) THEN
        UPDATE study s SET
            patient_id = COALESCE(NULLIF(p.patient_id, ''), s.patient_id),
            patient_name = COALESCE(NULLIF(p.patient_name, ''), s.patient_name),
            patient_birth_date = COALESCE(NULLIF(p.patient_birth_date, ''), s.patient_birth_date),
            accession_number = COALESCE(NULLIF(p.accession_number, ''), s.accession_number),
            referring_physician_name = COALESCE(NULLIF(p.referring_physician_name, ''), s.referring_physician_name),
            study_date = COALESCE(NULLIF(p.study_date, ''), s.study_date),
            study_description = COALESCE(NULLIF(p.study_description, ''), s.study_description),
            attrs = s.attrs || v_study_attrs,
            -- the last STOW decides: without expiry headers it clears it
            expires_at = v_expires
         WHERE study_key = v_study;
    END IF;
    sequence := v_seq;
END $$;
