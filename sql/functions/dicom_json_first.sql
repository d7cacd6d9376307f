-- The first value of attribute path in a DICOM JSON object, as text (a
-- person name: its alphabetic form).
CREATE OR REPLACE FUNCTION dicom_json_first(m jsonb, path text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(m -> path -> 'Value' -> 0) = 'object'
                THEN m -> path -> 'Value' -> 0 ->> 'Alphabetic'
                ELSE m -> path -> 'Value' ->> 0 END
$$;
