-- 001: index, change feed and outbox for store / retrieve / delete.
-- Numbered files hold schema changes only (tables, columns, indexes, types,
-- data moves), applied once each in order; the functions live in
-- sql/functions/, one a file, applied at every migrate.

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
