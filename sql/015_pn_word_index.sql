-- 015: fuzzy person-name matching (every query word starts a word of the
-- name) on an index: trigrams of ' ' || the normalized name, so that
-- "some word starts with w" is (' ' || name) LIKE '% w%' (see
-- dicom_pn_word_pattern), which a pg_trgm GIN index answers. pg_trgm is
-- a trusted extension shipped with PostgreSQL (Debian's postgresql-15;
-- postgresql-contrib elsewhere): where it cannot be created the searches
-- stay correct and walk the names instead, as before.
DO $$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'pg_trgm is not available (%): fuzzy person-name searches will not use an index', SQLERRM;
        RETURN;
    END;
    EXECUTE 'CREATE INDEX study_patient_name_words_idx ON study USING gin ((('' '' || patient_name_norm)) gin_trgm_ops)';
    EXECUTE 'CREATE INDEX study_referring_name_words_idx ON study USING gin ((('' '' || referring_physician_name_norm)) gin_trgm_ops)';
    EXECUTE 'CREATE INDEX eqt_value_pn_words_idx ON extended_query_tag_value USING gin ((('' '' || pn_norm)) gin_trgm_ops) WHERE pn_norm IS NOT NULL';
END
$$;
