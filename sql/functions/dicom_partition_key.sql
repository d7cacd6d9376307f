-- The key of a partition by name; created when p_create and missing.
CREATE OR REPLACE FUNCTION dicom_partition_key(p_name text, p_create boolean) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    v_key int;
BEGIN
    SELECT partition_key INTO v_key FROM partition WHERE partition_name = p_name;
    IF v_key IS NULL AND p_create THEN
        INSERT INTO partition (partition_name) VALUES (p_name)
            ON CONFLICT (partition_name) DO NOTHING;
        SELECT partition_key INTO v_key FROM partition WHERE partition_name = p_name;
    END IF;
    RETURN v_key;
END $$;
