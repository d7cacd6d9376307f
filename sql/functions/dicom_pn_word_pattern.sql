-- The LIKE pattern for "a word of the name starts with the first word of
-- q", matched against ' ' || the normalized name: a pg_trgm index (sql/015)
-- answers it. A query's words are each matched this way by the caller,
-- dicom_pn_fuzzy then decides; NULL (nothing to match on) matches nothing.
CREATE OR REPLACE FUNCTION dicom_pn_word_pattern(q text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT '% ' || replace(replace(replace(split_part(dicom_pn_norm(q), ' ', 1), '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;
