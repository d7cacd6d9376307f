-- 008: study and series attributes follow the latest instance that has a
-- value for them (the service's ISNULL in AddInstanceV6): a later instance
-- without PatientID keeps the study's PatientID, for search and results.
-- attrs holds, per row, the DICOM JSON of those attributes.
ALTER TABLE study ADD COLUMN attrs jsonb NOT NULL DEFAULT '{}';
ALTER TABLE series ADD COLUMN attrs jsonb NOT NULL DEFAULT '{}';

UPDATE study s SET attrs = COALESCE((
    SELECT jsonb_object_agg(x.k, x.v) FROM (
        SELECT DISTINCT ON (e.k) e.k, e.v
          FROM instance i, jsonb_each(dicom_valued(i.metadata::jsonb, dicom_level_tags(1))) AS e(k, v)
         WHERE i.partition_key = s.partition_key AND i.study_uid = s.study_uid
         ORDER BY e.k, i.watermark DESC) x), '{}'::jsonb);
UPDATE series se SET attrs = COALESCE((
    SELECT jsonb_object_agg(x.k, x.v) FROM (
        SELECT DISTINCT ON (e.k) e.k, e.v
          FROM instance i, jsonb_each(dicom_valued(i.metadata::jsonb, dicom_level_tags(2))) AS e(k, v)
         WHERE i.series_key = se.series_key
         ORDER BY e.k, i.watermark DESC) x), '{}'::jsonb);

-- the searched columns: an empty one takes the kept value
UPDATE study SET
    patient_id = COALESCE(NULLIF(patient_id, ''), attrs -> '00100020' -> 'Value' ->> 0),
    patient_name = COALESCE(NULLIF(patient_name, ''), attrs -> '00100010' -> 'Value' -> 0 ->> 'Alphabetic'),
    patient_birth_date = COALESCE(NULLIF(patient_birth_date, ''), attrs -> '00100030' -> 'Value' ->> 0),
    referring_physician_name = COALESCE(NULLIF(referring_physician_name, ''),
                                        attrs -> '00080090' -> 'Value' -> 0 ->> 'Alphabetic'),
    study_date = COALESCE(NULLIF(study_date, ''), attrs -> '00080020' -> 'Value' ->> 0),
    study_description = COALESCE(NULLIF(study_description, ''), attrs -> '00081030' -> 'Value' ->> 0),
    accession_number = COALESCE(NULLIF(accession_number, ''), attrs -> '00080050' -> 'Value' ->> 0)
 WHERE attrs <> '{}'::jsonb;
UPDATE series SET
    modality = COALESCE(NULLIF(modality, ''), attrs -> '00080060' -> 'Value' ->> 0),
    performed_procedure_step_start_date = COALESCE(NULLIF(performed_procedure_step_start_date, ''),
                                                   attrs -> '00400244' -> 'Value' ->> 0),
    manufacturer_model_name = COALESCE(NULLIF(manufacturer_model_name, ''), attrs -> '00081090' -> 'Value' ->> 0)
 WHERE attrs <> '{}'::jsonb;
