-- early: sql/023 writes the stored values of TM extended query tags with
-- it, so it is applied before the numbered files as well as after.
-- Changing what it returns needs a numbered file that rewrites them.
-- A DICOM TM value as text that sorts by time: HHmmss.ffffff, missing
-- minutes and seconds as zeros (fo-dicom's DicomTime). NULL when it does
-- not begin with an hour. TM extended query tags keep their values so
-- written (dicom_eqt_index), searched with bounds written the same way
-- (src/api/query_datetime.c).
CREATE OR REPLACE FUNCTION dicom_tm_norm(v text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT left(m[1] || '0000', 6) || '.' || rpad(coalesce(m[2], ''), 6, '0')
      FROM (SELECT regexp_match(replace(v, ':', ''), '^(\d\d(?:\d\d){0,2})(?:\.(\d{1,6}))?') AS m) s
     WHERE m IS NOT NULL
$$;
