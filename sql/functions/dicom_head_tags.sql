-- The attributes an instance's head keeps (instance.head, sql/017): those
-- QIDO answers by default at every level, API v1 and v2 (the lists of
-- src/api/qido_query.c). A search whose returned attributes are all among
-- them reads the small head instead of parsing the instance's whole
-- metadata; any other search reads the metadata, so this list is a cache
-- key, not a source of truth. A migration that changes it must also empty
-- instance.head (heads made with another list would lack attributes). It
-- holds dicom_level_tags' lists too: dicom_store takes the study and series
-- attributes from the head.
CREATE OR REPLACE FUNCTION dicom_head_tags() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY['00080005', '00080016', '00080018', '00080020', '00080030', '00080050', '00080056',
                 '00080060', '00080090', '00080201', '0008103E', '00081030', '00081090', '00100010',
                 '00100020', '00100030', '00100040', '0020000D', '0020000E', '00200010', '00200013',
                 '00280008', '00280010', '00280011', '00280100', '00400244', '00400245', '00400275']
$$;
