-- 009: studies that expire (msdicom-expiry-* headers on STOW): the time
-- outbox-relay deletes the study at, NULL for never. The last STOW to a
-- study sets or clears it.
ALTER TABLE study ADD COLUMN expires_at timestamptz;
CREATE INDEX study_expires_idx ON study (expires_at) WHERE expires_at IS NOT NULL;
ALTER TYPE dicom_instance_in ADD ATTRIBUTE expiry_ms bigint;
