-- early: sql/023 writes the stored values of DT extended query tags with
-- it, so it is applied before the numbered files as well as after.
-- Changing what it returns needs a numbered file that rewrites them.
-- A DICOM DT value as text that sorts by time: yyyyMMddHHmmss.ffffff,
-- missing parts as the service's DateTime parse fills them (January, the
-- first, midnight), any UTC offset left out. NULL when it does not begin
-- with a year. Workitem searches compare ScheduledProcedureStepStartDateTime
-- with it, and DT extended query tags keep their values so written
-- (dicom_eqt_index), against bounds written the same way
-- (src/api/query_datetime.c).
CREATE OR REPLACE FUNCTION dicom_dt_norm(v text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT left(m[1] || substr('00000101000000', length(m[1]) + 1), 14) || '.' || rpad(coalesce(m[2], ''), 6, '0')
      FROM (SELECT regexp_match(v, '^(\d{4}(?:\d\d){0,5})(?:\.(\d{1,6}))?') AS m) s
     WHERE m IS NOT NULL
$$;
