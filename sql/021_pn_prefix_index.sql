-- 021: fuzzy person-name matching on word prefixes instead of trigrams
-- (015): a GIN index on every prefix of every word of the normalized name
-- (dicom_pn_prefixes) answers "each query word starts a word of the name"
-- with one index entry a query word. Trigrams read the posting lists of
-- every trigram of the longest query word, and those of common beginnings
-- ("joh", "mar") hold most of the names. pg_trgm is no longer used. No
-- pending list (fastupdate off), as 018 says for the trigram indexes.
DROP INDEX IF EXISTS study_patient_name_words_idx;
DROP INDEX IF EXISTS study_referring_name_words_idx;
DROP INDEX IF EXISTS eqt_value_pn_words_idx;
-- a study's are kept in generated columns: a search that walks the
-- studies newest first (a short, common query word) tests each row's
-- array instead of computing it
ALTER TABLE study
    ADD COLUMN patient_name_prefixes text[]
        GENERATED ALWAYS AS (dicom_pn_prefixes(dicom_pn_norm(patient_name))) STORED,
    ADD COLUMN referring_physician_name_prefixes text[]
        GENERATED ALWAYS AS (dicom_pn_prefixes(dicom_pn_norm(referring_physician_name))) STORED;
CREATE INDEX study_patient_name_prefix_idx ON study USING gin (patient_name_prefixes) WITH (fastupdate = off);
CREATE INDEX study_referring_name_prefix_idx ON study USING gin (referring_physician_name_prefixes)
    WITH (fastupdate = off);
CREATE INDEX eqt_value_pn_prefix_idx ON extended_query_tag_value USING gin (dicom_pn_prefixes(pn_norm))
    WITH (fastupdate = off) WHERE pn_norm IS NOT NULL;
