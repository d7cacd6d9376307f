-- early: dicom_valued (early itself) is written over it.
-- Whether a DICOM JSON attribute carries a value: a first value that is
-- neither null nor empty. A plain expression, so that statements using it
-- (dicom_valued, dicom_store's pick) have it inlined.
CREATE OR REPLACE FUNCTION dicom_has_value(v jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(v -> 'Value' -> 0) IS NOT NULL AND jsonb_typeof(v -> 'Value' -> 0) <> 'null'
       AND v -> 'Value' -> 0 <> '""'::jsonb AND v -> 'Value' -> 0 <> '{}'::jsonb
$$;
