-- 020: instance metadata compressed with lz4 instead of pglz (new values;
-- stored ones stay as they are, both are read alike): a study's metadata
-- read decompresses every instance's, and pglz_decompress was the
-- largest single cost of PostgreSQL in serving it. A server built
-- without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE instance ALTER COLUMN metadata SET COMPRESSION lz4,
                         ALTER COLUMN original_metadata SET COMPRESSION lz4,
                         ALTER COLUMN original_metadata_bulk SET COMPRESSION lz4,
                         ALTER COLUMN head SET COMPRESSION lz4;
    ALTER TABLE instance_bulk ALTER COLUMN metadata SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE WARNING 'this PostgreSQL has no lz4 (%): metadata stays compressed with pglz', SQLERRM;
END
$$;
