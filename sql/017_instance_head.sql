-- 017: each instance keeps its head, the attributes QIDO returns by
-- default (dicom_head_tags), as jsonb: a search's page of results then
-- reads small heads instead of casting each result's whole metadata to
-- jsonb. Instances stored before this step have none (NULL) and are read
-- from their metadata as before.
ALTER TABLE instance ADD COLUMN head jsonb;
