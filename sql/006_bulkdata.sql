-- 006: metadata with bulk data attributes as BulkDataURI links, kept beside
-- the service's metadata (which leaves them out) for [retrieve] bulkdata_uri.
-- Links are stored relative ("bulkdata/7FE00010") and made absolute when
-- served. Written in the store's one statement (dicom_store_bulk wraps
-- dicom_store_instance), gone with the instance.
CREATE TABLE instance_bulk (
    watermark bigint PRIMARY KEY REFERENCES instance ON DELETE CASCADE,
    metadata  text NOT NULL
);

-- p_seq is dicom_store_instance's answer: NULL when the instance existed.
CREATE OR REPLACE FUNCTION dicom_store_bulk(p_seq bigint, p_watermark bigint, p_metadata text)
RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    IF p_seq IS NOT NULL AND p_metadata IS NOT NULL THEN
        INSERT INTO instance_bulk (watermark, metadata) VALUES (p_watermark, p_metadata);
    END IF;
    RETURN p_seq;
END $$;
