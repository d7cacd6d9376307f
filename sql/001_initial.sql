-- 001: index, change feed and outbox for store / retrieve / delete.
-- Released schema files are never edited; later changes go in new files.

CREATE TABLE partition (
    partition_key  serial PRIMARY KEY,
    partition_name text NOT NULL UNIQUE,
    created_date   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO partition (partition_key, partition_name) VALUES (1, 'Microsoft.Default');
SELECT setval('partition_partition_key_seq', 1);

-- Every stored instance version gets a watermark; its file is named by it.
CREATE SEQUENCE watermark_seq;

CREATE TABLE study (
    study_key                bigserial PRIMARY KEY,
    partition_key            int NOT NULL REFERENCES partition,
    study_uid                text NOT NULL,
    patient_id               text,
    patient_name             text,
    patient_birth_date       text,
    accession_number         text,
    referring_physician_name text,
    study_date               text,
    study_description        text,
    last_watermark           bigint NOT NULL,
    UNIQUE (partition_key, study_uid)
);

CREATE TABLE series (
    series_key                         bigserial PRIMARY KEY,
    study_key                          bigint NOT NULL REFERENCES study ON DELETE CASCADE,
    series_uid                         text NOT NULL,
    modality                           text,
    performed_procedure_step_start_date text,
    manufacturer_model_name            text,
    last_watermark                     bigint NOT NULL,
    UNIQUE (study_key, series_uid)
);

CREATE TABLE instance (
    watermark       bigint PRIMARY KEY,
    series_key      bigint NOT NULL REFERENCES series ON DELETE CASCADE,
    partition_key   int NOT NULL,
    study_uid       text NOT NULL,
    series_uid      text NOT NULL,
    sop_uid         text NOT NULL,
    sop_class_uid   text NOT NULL,
    transfer_syntax text NOT NULL,
    file_size       bigint NOT NULL,
    metadata        text NOT NULL,     -- DICOM JSON object, computed at store time
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partition_key, study_uid, series_uid, sop_uid)
);
CREATE INDEX instance_series_idx ON instance (series_key);

-- action: 0 Create, 1 Delete, 2 Update. State is derived:
-- current_watermark NULL = Deleted, <> original = Replaced, else Current.
CREATE TABLE changefeed (
    sequence           bigserial PRIMARY KEY,
    "timestamp"        timestamptz NOT NULL DEFAULT clock_timestamp(),
    partition_key      int NOT NULL,
    study_uid          text NOT NULL,
    series_uid         text NOT NULL,
    sop_uid            text NOT NULL,
    action             smallint NOT NULL,
    original_watermark bigint NOT NULL,
    current_watermark  bigint
);
CREATE INDEX changefeed_instance_idx ON changefeed (partition_key, study_uid, series_uid, sop_uid);
CREATE INDEX changefeed_time_idx ON changefeed ("timestamp", sequence);

-- One row per event, written by the transaction of the change it describes.
-- payload is the Event Grid event exactly as Azure writes it.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    event_type  text NOT NULL,
    subject     text NOT NULL,
    sequence    bigint NOT NULL,
    event_time  timestamptz NOT NULL,
    payload     json NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX outbox_sequence_idx ON outbox (sequence);

CREATE FUNCTION dicom_partition_key(p_name text, p_create boolean) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    v_key int;
BEGIN
    SELECT partition_key INTO v_key FROM partition WHERE partition_name = p_name;
    IF v_key IS NULL AND p_create THEN
        INSERT INTO partition (partition_name) VALUES (p_name)
            ON CONFLICT (partition_name) DO NOTHING;
        SELECT partition_key INTO v_key FROM partition WHERE partition_name = p_name;
    END IF;
    RETURN v_key;
END $$;

CREATE FUNCTION dicom_event(p_type text, p_partition text, p_study text, p_series text, p_sop text,
                            p_sequence bigint, p_time timestamptz, p_host text, p_topic text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := gen_random_uuid();
    v_subject text := p_host || '/v1/partitions/' || p_partition || '/studies/' || p_study
                      || '/series/' || p_series || '/instances/' || p_sop;
BEGIN
    INSERT INTO outbox (event_id, event_type, subject, sequence, event_time, payload)
    VALUES (v_id, p_type, v_subject, p_sequence, p_time,
        json_build_object(
            'id', v_id,
            'topic', p_topic,
            'subject', v_subject,
            'data', json_build_object(
                'partitionName', p_partition,
                'imageStudyInstanceUid', p_study,
                'imageSeriesInstanceUid', p_series,
                'imageSopInstanceUid', p_sop,
                'serviceHostName', p_host,
                'sequenceNumber', p_sequence),
            'eventType', p_type,
            'dataVersion', '1',
            'metadataVersion', '1',
            'eventTime', to_char(p_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')));
    PERFORM pg_notify('outbox', p_sequence::text);
END $$;

-- Stores one instance's rows, its change feed row and its event. Returns the
-- change feed sequence, or NULL when the instance already exists.
CREATE FUNCTION dicom_store_instance(
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
    RETURN v_seq;
END $$;

-- Deletes a study, a series (p_sop NULL) or an instance; returns the
-- watermarks whose files the caller removes after commit.
CREATE FUNCTION dicom_delete(p_partition text, p_study text, p_series text, p_sop text,
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
    FOR r IN
        DELETE FROM instance
         WHERE partition_key = v_pk AND study_uid = p_study
           AND (p_series IS NULL OR series_uid = p_series)
           AND (p_sop IS NULL OR sop_uid = p_sop)
        RETURNING watermark, series_key, study_uid, series_uid, sop_uid
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
    END LOOP;
    -- series and studies left without instances go too
    DELETE FROM series s
     WHERE s.series_key = ANY (v_series_keys)
       AND NOT EXISTS (SELECT 1 FROM instance i WHERE i.series_key = s.series_key);
    DELETE FROM study st
     WHERE st.partition_key = v_pk AND st.study_uid = p_study
       AND NOT EXISTS (SELECT 1 FROM series s WHERE s.study_key = st.study_key);
END $$;
