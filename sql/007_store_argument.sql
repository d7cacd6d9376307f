-- 007: the store function takes one structured argument. Functions moved to
-- sql/functions/; the two that dicom_store replaces are dropped here.
DROP FUNCTION IF EXISTS dicom_store_bulk(bigint, bigint, text);
DROP FUNCTION IF EXISTS dicom_store_instance(text, text, text, text, text, text, bigint, bigint, text,
    text, text, text, text, text, text, text, text, text, text, text, text);

-- One instance to store: where it is, what it is, its file, both forms of
-- its metadata, the attributes that study and series rows index, and the
-- event's host and topic.
CREATE TYPE dicom_instance_in AS (
    partition_name       text,
    study_uid            text,
    series_uid           text,
    sop_uid              text,
    sop_class_uid        text,
    transfer_syntax      text,
    watermark            bigint,
    file_size            bigint,
    metadata             text,
    metadata_bulk        text,
    patient_id           text,
    patient_name         text,
    patient_birth_date   text,
    accession_number     text,
    referring_physician_name text,
    study_date           text,
    study_description    text,
    modality             text,
    pps_start_date       text,
    manufacturer_model_name text,
    event_host           text,
    event_topic          text
);
