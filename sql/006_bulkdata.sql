-- 006: metadata with bulk data attributes as BulkDataURI links, kept beside
-- the service's metadata (which leaves them out) for [retrieve] bulkdata_uri.
-- Links are stored relative ("bulkdata/7FE00010") and made absolute when
-- served. Written by the store's one statement (dicom_store), gone with
-- the instance.
CREATE TABLE instance_bulk (
    watermark bigint PRIMARY KEY REFERENCES instance ON DELETE CASCADE,
    metadata  text NOT NULL
);
