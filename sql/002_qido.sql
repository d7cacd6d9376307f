-- 002: QIDO-RS: normalized person names, the helpers the search SQL uses,
-- the indexes it needs; study and series follow their latest remaining
-- instance after a delete.

-- Person names compare without case and accents; fuzzy matching works on
-- the words of the name (PS3.18 and the service's rules).
CREATE FUNCTION dicom_pn_norm(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT NULLIF(btrim(regexp_replace(lower(translate(t, 'àáâãäåāăąçćčďèéêëēėęěìíîïīįñńňòóôõöøōőŕřśšşťùúûüūůűųýÿźżžÀÁÂÃÄÅĀĂĄÇĆČĎÈÉÊËĒĖĘĚÌÍÎÏĪĮÑŃŇÒÓÔÕÖØŌŐŔŘŚŠŞŤÙÚÛÜŪŮŰŲÝŸŹŻŽ^=',
        'aaaaaaaaacccdeeeeeeeeiiiiiinnnoooooooorrssstuuuuuuuuyyzzzaaaaaaaaacccdeeeeeeeeiiiiiinnnoooooooorrssstuuuuuuuuyyzzz  ')), '\s+', ' ', 'g')), '')
$$;

-- Every word of the query is the start of some word of the name.
CREATE FUNCTION dicom_pn_fuzzy(name_norm text, query_norm text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT name_norm IS NOT NULL AND query_norm IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM unnest(string_to_array(query_norm, ' ')) AS q(w)
         WHERE NOT EXISTS (SELECT 1 FROM unnest(string_to_array(name_norm, ' ')) AS n(x)
                            WHERE left(x, length(w)) = w))
$$;

-- The attributes of a DICOM JSON object whose tags are listed.
CREATE FUNCTION dicom_pick(m text, tags text[]) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(jsonb_object_agg(k, v), '{}'::jsonb)
      FROM jsonb_each(m::jsonb) AS e(k, v) WHERE k = ANY (tags)
$$;

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

-- Deleting the latest instance of a series or study makes the latest of
-- those left the one QIDO orders by.
CREATE OR REPLACE FUNCTION dicom_delete(p_partition text, p_study text, p_series text, p_sop text,
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
    DELETE FROM series s
     WHERE s.series_key = ANY (v_series_keys)
       AND NOT EXISTS (SELECT 1 FROM instance i WHERE i.series_key = s.series_key);
    UPDATE series s SET last_watermark = (SELECT max(i.watermark) FROM instance i WHERE i.series_key = s.series_key)
     WHERE s.series_key = ANY (v_series_keys);
    DELETE FROM study st
     WHERE st.partition_key = v_pk AND st.study_uid = p_study
       AND NOT EXISTS (SELECT 1 FROM series s WHERE s.study_key = st.study_key);
    UPDATE study st SET last_watermark = (SELECT max(s.last_watermark) FROM series s WHERE s.study_key = st.study_key)
     WHERE st.partition_key = v_pk AND st.study_uid = p_study;
END $$;
