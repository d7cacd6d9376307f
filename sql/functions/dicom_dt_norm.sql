-- A DICOM DT value as text that sorts by time: yyyyMMddHHmmss.ffffff,
-- missing parts as the service's DateTime parse fills them (January, the
-- first, midnight), any UTC offset left out. NULL when it does not begin
-- with a year. Workitem searches compare ScheduledProcedureStepStartDateTime
-- with it, against bounds written the same way (src/api/workitem_query.c).
CREATE OR REPLACE FUNCTION dicom_dt_norm(v text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT left(m[1] || substr('00000101000000', length(m[1]) + 1), 14) || '.' || rpad(coalesce(m[2], ''), 6, '0')
      FROM (SELECT regexp_match(v, '^(\d{4}(?:\d\d){0,5})(?:\.(\d{1,6}))?') AS m) s
     WHERE m IS NOT NULL
$$;
