-- 018: the person-name word indexes (015) take each new row at once
-- (fastupdate off) rather than through GIN's pending list: a search had to
-- read every pending entry one by one until a vacuum merged them (up to
-- gin_pending_list_limit, 4 MB by default), which slowed fuzzy searches
-- after many stores. A store pays a few index entries a name instead.
-- Where pg_trgm was not available (015 warned) there is nothing to change.
DO $$
DECLARE
    v_index text;
BEGIN
    FOREACH v_index IN ARRAY ARRAY['study_patient_name_words_idx', 'study_referring_name_words_idx',
                                   'eqt_value_pn_words_idx'] LOOP
        IF to_regclass(v_index) IS NOT NULL THEN
            EXECUTE format('ALTER INDEX %I SET (fastupdate = off)', v_index);
        END IF;
    END LOOP;
END
$$;
