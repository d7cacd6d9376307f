-- 004: extended query tags and long-running operations.
-- Tag values are taken from each instance's stored DICOM JSON (no file is
-- read again); a reindex operation walks the instances in watermark order,
-- batch by batch, from a cursor that survives any restart.

CREATE TABLE extended_query_tag (
    tag_key         serial PRIMARY KEY,
    path            text NOT NULL UNIQUE,       -- 8 upper-case hex digits
    vr              text NOT NULL,
    private_creator text,
    level           text NOT NULL CHECK (level IN ('study', 'series', 'instance')),
    status          text NOT NULL DEFAULT 'adding' CHECK (status IN ('adding', 'ready', 'deleting')),
    query_status    text NOT NULL DEFAULT 'enabled' CHECK (query_status IN ('enabled', 'disabled')),
    error_count     int NOT NULL DEFAULT 0,
    operation_id    uuid,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- one value per (tag, instance): the first value of the attribute
CREATE TABLE extended_query_tag_value (
    tag_key       int NOT NULL REFERENCES extended_query_tag ON DELETE CASCADE,
    watermark     bigint NOT NULL REFERENCES instance ON DELETE CASCADE,
    partition_key int NOT NULL,
    study_uid     text NOT NULL,
    series_key    bigint NOT NULL,
    text_value    text,
    num_value     double precision,
    pn_norm       text,
    PRIMARY KEY (tag_key, watermark)
);
CREATE INDEX eqt_value_text_idx ON extended_query_tag_value (tag_key, lower(text_value));
CREATE INDEX eqt_value_num_idx ON extended_query_tag_value (tag_key, num_value);
CREATE INDEX eqt_value_pn_idx ON extended_query_tag_value (tag_key, pn_norm);

CREATE TABLE extended_query_tag_error (
    tag_key       int NOT NULL REFERENCES extended_query_tag ON DELETE CASCADE,
    watermark     bigint NOT NULL REFERENCES instance ON DELETE CASCADE,
    partition_key int NOT NULL,
    study_uid     text NOT NULL,
    series_uid    text NOT NULL,
    sop_uid       text NOT NULL,
    error_message text NOT NULL,
    created_time  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tag_key, watermark)
);

CREATE TABLE operation (
    id                uuid PRIMARY KEY,
    type              text NOT NULL,             -- reindex
    status            text NOT NULL DEFAULT 'notStarted'
                      CHECK (status IN ('notStarted', 'running', 'succeeded', 'failed', 'canceled')),
    created_time      timestamptz NOT NULL DEFAULT now(),
    last_updated_time timestamptz NOT NULL DEFAULT now(),
    percent_complete  int NOT NULL DEFAULT 0,
    tag_keys          int[] NOT NULL DEFAULT '{}',
    resources         text[] NOT NULL DEFAULT '{}', -- tag paths, made into URIs when answered
    cursor_watermark  bigint NOT NULL DEFAULT 0,     -- done up to here
    end_watermark     bigint,                        -- the last instance when the work began
    errors            text[] NOT NULL DEFAULT '{}',
    locked_until      timestamptz,
    locked_by         text
);
CREATE INDEX operation_active_idx ON operation (created_time) WHERE status IN ('notStarted', 'running');

-- The first value of attribute path in a DICOM JSON object, as text (a
-- person name: its alphabetic form).
CREATE FUNCTION dicom_json_first(m jsonb, path text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(m -> path -> 'Value' -> 0) = 'object'
                THEN m -> path -> 'Value' -> 0 ->> 'Alphabetic'
                ELSE m -> path -> 'Value' ->> 0 END
$$;

-- NULL when value suits vr, else why not (the minimum rules of the service).
CREATE FUNCTION dicom_eqt_check(vr text, v text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN vr = 'DA' AND v !~ '^\d{8}$' THEN 'Value does not match the pattern YYYYMMDD.'
        WHEN vr = 'DT' AND v !~ '^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$'
            THEN 'Value does not match the pattern YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]].'
        WHEN vr = 'TM' AND v !~ '^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$' THEN 'Value does not match the pattern HH[MM[SS[.F{1-6}]]].'
        WHEN vr IN ('AE', 'CS', 'SH') AND length(v) > 16 THEN 'Value length is not expected.'
        WHEN vr = 'LO' AND length(v) > 64 THEN 'Value length is not expected.'
        WHEN vr = 'AS' AND v !~ '^\d{3}[DWMY]$' THEN 'Value does not match the pattern nnnD, nnnW, nnnM or nnnY.'
        WHEN vr = 'UI' AND (length(v) > 64 OR v !~ '^[0-9.]*[0-9]$') THEN 'DICOM Identifier is invalid.'
        WHEN vr IN ('IS', 'SL', 'SS', 'UL', 'US') AND v !~ '^[+-]?\d+$' THEN 'Value is not a valid integer.'
        WHEN vr IN ('FL', 'FD') AND v !~ '^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$' THEN 'Value is not a valid number.'
        ELSE NULL END
$$;

-- Indexes one tag for the instances with watermarks in (p_from, p_to]:
-- a value row for each valid value, an error row for each invalid one.
-- Returns the number of instances looked at.
CREATE FUNCTION dicom_eqt_index(p_tag_key int, p_from bigint, p_to bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    t extended_query_tag;
    n bigint;
BEGIN
    SELECT * INTO t FROM extended_query_tag WHERE tag_key = p_tag_key;
    IF t IS NULL THEN
        RETURN 0;
    END IF;
    WITH src AS (
        SELECT i.watermark, i.partition_key, i.study_uid, i.series_uid, i.sop_uid, i.series_key,
               dicom_json_first(i.metadata::jsonb, t.path) AS v
          FROM instance i WHERE i.watermark > p_from AND i.watermark <= p_to),
    good AS (
        INSERT INTO extended_query_tag_value (tag_key, watermark, partition_key, study_uid, series_key,
                                              text_value, num_value, pn_norm)
        SELECT t.tag_key, s.watermark, s.partition_key, s.study_uid, s.series_key,
               CASE WHEN t.vr IN ('IS', 'SL', 'SS', 'UL', 'US', 'FL', 'FD') THEN NULL ELSE s.v END,
               CASE WHEN t.vr IN ('IS', 'SL', 'SS', 'UL', 'US', 'FL', 'FD') THEN s.v::double precision END,
               CASE WHEN t.vr = 'PN' THEN dicom_pn_norm(s.v) END
          FROM src s WHERE s.v IS NOT NULL AND s.v <> '' AND dicom_eqt_check(t.vr, s.v) IS NULL
        ON CONFLICT DO NOTHING RETURNING 1),
    bad AS (
        INSERT INTO extended_query_tag_error (tag_key, watermark, partition_key, study_uid, series_uid, sop_uid,
                                              error_message)
        SELECT t.tag_key, s.watermark, s.partition_key, s.study_uid, s.series_uid, s.sop_uid,
               dicom_eqt_check(t.vr, s.v)
          FROM src s WHERE s.v IS NOT NULL AND s.v <> '' AND dicom_eqt_check(t.vr, s.v) IS NOT NULL
        ON CONFLICT DO NOTHING RETURNING 1)
    SELECT (SELECT count(*) FROM src) INTO n;
    UPDATE extended_query_tag SET error_count = (SELECT count(*) FROM extended_query_tag_error e
                                                  WHERE e.tag_key = p_tag_key)
     WHERE tag_key = p_tag_key;
    RETURN n;
END $$;

CREATE OR REPLACE FUNCTION dicom_store_instance(
    p_partition text, p_study text, p_series text, p_sop text, p_sop_class text, p_ts text,
    p_watermark bigint, p_size bigint, p_metadata text,
    p_patient_id text, p_patient_name text, p_birth_date text, p_accession text,
    p_referring text, p_study_date text, p_study_description text,
    p_modality text, p_pps_start_date text, p_model text,
    p_host text, p_topic text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_pk int := dicom_partition_key(p_partition, true);
    v_study bigint;
    v_series bigint;
    v_seq bigint;
    v_time timestamptz;
BEGIN
    IF EXISTS (SELECT 1 FROM instance WHERE partition_key = v_pk AND study_uid = p_study
               AND series_uid = p_series AND sop_uid = p_sop) THEN
        RETURN NULL;
    END IF;
    -- study and series attributes follow the latest stored instance
    INSERT INTO study AS s (partition_key, study_uid, patient_id, patient_name, patient_birth_date,
                           accession_number, referring_physician_name, study_date, study_description,
                           last_watermark)
    VALUES (v_pk, p_study, p_patient_id, p_patient_name, p_birth_date, p_accession, p_referring,
            p_study_date, p_study_description, p_watermark)
    ON CONFLICT (partition_key, study_uid) DO UPDATE SET
        patient_id = COALESCE(EXCLUDED.patient_id, s.patient_id),
        patient_name = EXCLUDED.patient_name,
        patient_birth_date = EXCLUDED.patient_birth_date,
        accession_number = EXCLUDED.accession_number,
        referring_physician_name = EXCLUDED.referring_physician_name,
        study_date = EXCLUDED.study_date,
        study_description = EXCLUDED.study_description,
        last_watermark = EXCLUDED.last_watermark
    RETURNING study_key INTO v_study;

    INSERT INTO series AS s (study_key, series_uid, modality, performed_procedure_step_start_date,
                            manufacturer_model_name, last_watermark)
    VALUES (v_study, p_series, p_modality, p_pps_start_date, p_model, p_watermark)
    ON CONFLICT (study_key, series_uid) DO UPDATE SET
        modality = EXCLUDED.modality,
        performed_procedure_step_start_date = EXCLUDED.performed_procedure_step_start_date,
        manufacturer_model_name = EXCLUDED.manufacturer_model_name,
        last_watermark = EXCLUDED.last_watermark
    RETURNING series_key INTO v_series;

    -- a concurrent store of the same instance fails here with unique_violation
    INSERT INTO instance (watermark, series_key, partition_key, study_uid, series_uid, sop_uid,
                          sop_class_uid, transfer_syntax, file_size, metadata)
    VALUES (p_watermark, v_series, v_pk, p_study, p_series, p_sop, p_sop_class, p_ts, p_size, p_metadata);

    UPDATE changefeed SET current_watermark = p_watermark
     WHERE partition_key = v_pk AND study_uid = p_study AND series_uid = p_series AND sop_uid = p_sop;
    INSERT INTO changefeed (partition_key, study_uid, series_uid, sop_uid, action,
                            original_watermark, current_watermark)
    VALUES (v_pk, p_study, p_series, p_sop, 0, p_watermark, p_watermark)
    RETURNING sequence, "timestamp" INTO v_seq, v_time;

    PERFORM dicom_event('Microsoft.HealthcareApis.DicomImageCreated', p_partition, p_study, p_series,
                        p_sop, v_seq, v_time, p_host, p_topic);
    -- extended query tags, ready or being added, index the new instance now
    PERFORM dicom_eqt_index(t.tag_key, p_watermark - 1, p_watermark)
       FROM extended_query_tag t WHERE t.status IN ('adding', 'ready');
    RETURN v_seq;
END $$;

