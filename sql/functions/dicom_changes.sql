-- Whether a stored instance's value of a study or series attribute changes
-- the kept one: it has a value ('' is none), and another.
CREATE OR REPLACE FUNCTION dicom_changes(p_new text, p_old text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT NULLIF(p_new, '') IS NOT NULL AND NULLIF(p_new, '') IS DISTINCT FROM p_old
$$;
