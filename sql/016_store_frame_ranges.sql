-- 016: the store-time parse also tells where the frames are in the file,
-- so the instance row has its frame_ranges (sql/005) from the start and
-- no first frames or rendered request needs a child to find them.
ALTER TYPE dicom_instance_in ADD ATTRIBUTE frame_ranges text;
