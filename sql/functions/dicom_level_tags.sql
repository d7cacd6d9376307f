-- early: 008 fills study and series attributes with it.
-- The attributes a study (level 1) or series (level 2) row keeps the latest
-- value of: the ones the service's study and series tables hold, which a
-- later instance without a value does not clear (AddInstanceV6's ISNULL).
CREATE OR REPLACE FUNCTION dicom_level_tags(level int) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE level
        WHEN 1 THEN ARRAY['00100020', '00100010', '00100030', '00080090', '00080020', '00081030', '00080050']
        ELSE ARRAY['00080060', '00400244', '00081090'] END
$$;
