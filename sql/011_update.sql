-- 011: bulk update ($bulkUpdate). An updated instance keeps its first
-- version, the original: its file (original_watermark), size and both forms
-- of its metadata, served with msdicom-request-original: true. An update
-- operation keeps its request (input) and its results; its work list is
-- operation_item, one row per instance of its studies, made when it
-- starts, each done in the transaction that updates that instance, so that
-- the work resumes where it stopped after any kill.
ALTER TABLE instance ADD COLUMN original_watermark bigint;
ALTER TABLE instance ADD COLUMN original_file_size bigint;
ALTER TABLE instance ADD COLUMN original_metadata text;
ALTER TABLE instance ADD COLUMN original_metadata_bulk text;

ALTER TABLE operation ADD COLUMN input jsonb;
ALTER TABLE operation ADD COLUMN results jsonb;

CREATE TABLE operation_item (
    operation_id uuid NOT NULL REFERENCES operation ON DELETE CASCADE,
    watermark    bigint NOT NULL,          -- the version the item was listed with
    study_uid    text NOT NULL,
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'updated', 'gone', 'failed')),
    error        text,
    PRIMARY KEY (operation_id, watermark)
);
CREATE INDEX operation_item_pending_idx ON operation_item (operation_id, watermark) WHERE status = 'pending';

-- replacing (upsert) an updated instance removes both its versions: the
-- store function answers every watermark whose file goes
DROP FUNCTION IF EXISTS dicom_store(dicom_instance_in);
