-- early: 008 fills study and series attributes with it.
-- The listed attributes of a DICOM JSON object that carry a value (a first
-- value that is neither null nor empty).
CREATE OR REPLACE FUNCTION dicom_valued(m jsonb, tags text[]) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(jsonb_object_agg(k, v), '{}'::jsonb)
      FROM jsonb_each(m) AS e(k, v)
     WHERE k = ANY (tags) AND dicom_has_value(v)
$$;
