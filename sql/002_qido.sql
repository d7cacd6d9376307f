-- 002: QIDO-RS: normalized person names (dicom_pn_norm, applied before the
-- numbered files for these generated columns) and the indexes search needs.

ALTER TABLE study ADD COLUMN patient_name_norm text GENERATED ALWAYS AS (dicom_pn_norm(patient_name)) STORED;
ALTER TABLE study ADD COLUMN referring_physician_name_norm text
    GENERATED ALWAYS AS (dicom_pn_norm(referring_physician_name)) STORED;

CREATE INDEX study_latest_idx ON study (partition_key, last_watermark DESC);
CREATE INDEX study_patient_id_idx ON study (partition_key, lower(patient_id));
CREATE INDEX study_patient_name_idx ON study (partition_key, patient_name_norm);
CREATE INDEX study_date_idx ON study (partition_key, study_date);
CREATE INDEX study_accession_idx ON study (partition_key, lower(accession_number));
CREATE INDEX series_study_idx ON series (study_key, last_watermark DESC);
CREATE INDEX series_latest_idx ON series (last_watermark DESC);
CREATE INDEX series_uid_idx ON series (series_uid);
CREATE INDEX series_modality_idx ON series (lower(modality));
CREATE INDEX instance_study_latest_idx ON instance (partition_key, study_uid, watermark DESC);
CREATE INDEX instance_series_latest_idx ON instance (series_key, watermark DESC);
CREATE INDEX instance_sop_idx ON instance (sop_uid);
DROP INDEX instance_series_idx;
