-- The attributes of a DICOM JSON object whose tags are listed.
CREATE OR REPLACE FUNCTION dicom_pick(m text, tags text[]) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(jsonb_object_agg(k, v), '{}'::jsonb)
      FROM jsonb_each(m::jsonb) AS e(k, v) WHERE k = ANY (tags)
$$;

-- The same, from a jsonb object (a study's or series' kept attributes).
CREATE OR REPLACE FUNCTION dicom_pick(m jsonb, tags text[]) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(jsonb_object_agg(k, v), '{}'::jsonb)
      FROM jsonb_each(m) AS e(k, v) WHERE k = ANY (tags)
$$;
