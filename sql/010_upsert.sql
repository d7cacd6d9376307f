-- 010: PUT (upsert) replaces an existing instance: dicom_store is told so,
-- and answers the watermark it replaced besides the change feed sequence
-- (a new result type: the function is dropped here, made again after).
ALTER TYPE dicom_instance_in ADD ATTRIBUTE upsert boolean;
DROP FUNCTION IF EXISTS dicom_store(dicom_instance_in);
