-- Indexes one tag for the instances with watermarks in (p_from, p_to]:
-- a value row for each valid value (a DT's as dicom_dt_norm writes it, a
-- TM's as dicom_tm_norm does),
-- an error row for each invalid one.
-- Returns the number of instances looked at.
CREATE OR REPLACE FUNCTION dicom_eqt_index(p_tag_key int, p_from bigint, p_to bigint) RETURNS bigint
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
               CASE WHEN t.vr IN ('IS', 'SL', 'SS', 'UL', 'US', 'FL', 'FD') THEN NULL
                    WHEN t.vr = 'DT' THEN COALESCE(dicom_dt_norm(s.v), s.v)
                    WHEN t.vr = 'TM' THEN COALESCE(dicom_tm_norm(s.v), s.v) ELSE s.v END,
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
