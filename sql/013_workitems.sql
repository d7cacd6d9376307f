-- 013: UPS-RS workitems (§9.4). One row a workitem: its state, the
-- transaction UID of the performer that claimed it, and its dataset (DICOM
-- JSON, without the transaction UID); the searchable attributes are
-- columns generated from the dataset.
CREATE TABLE workitem (
    workitem_key      bigserial PRIMARY KEY,
    partition_key     int NOT NULL REFERENCES partition,
    sop_uid           text NOT NULL,
    state             text NOT NULL CHECK (state IN ('SCHEDULED', 'IN PROGRESS', 'COMPLETED', 'CANCELED')),
    transaction_uid   text,
    dataset           jsonb NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    patient_name_norm text GENERATED ALWAYS AS (dicom_pn_norm(dataset -> '00100010' -> 'Value' -> 0 ->> 'Alphabetic')) STORED,
    patient_id        text GENERATED ALWAYS AS (dataset -> '00100020' -> 'Value' ->> 0) STORED,
    start_datetime    text GENERATED ALWAYS AS (dataset -> '00404005' -> 'Value' ->> 0) STORED,
    accession_number  text GENERATED ALWAYS AS (dataset -> '0040A370' -> 'Value' -> 0 -> '00080050' -> 'Value' ->> 0) STORED,
    requested_procedure_id text GENERATED ALWAYS AS (dataset -> '0040A370' -> 'Value' -> 0 -> '00401001' -> 'Value' ->> 0) STORED,
    station_name_code text GENERATED ALWAYS AS (dataset -> '00404025' -> 'Value' -> 0 -> '00080100' -> 'Value' ->> 0) STORED,
    station_class_code text GENERATED ALWAYS AS (dataset -> '00404026' -> 'Value' -> 0 -> '00080100' -> 'Value' ->> 0) STORED,
    station_location_code text GENERATED ALWAYS AS (dataset -> '00404027' -> 'Value' -> 0 -> '00080100' -> 'Value' ->> 0) STORED,
    study_uid         text GENERATED ALWAYS AS (dataset -> '0020000D' -> 'Value' ->> 0) STORED,
    UNIQUE (partition_key, sop_uid)
);
CREATE INDEX workitem_patient_id_idx ON workitem (partition_key, lower(patient_id));
CREATE INDEX workitem_start_idx ON workitem (partition_key, start_datetime);
