-- 012: export ($export to Azure Blob storage) shares the work list of
-- bulk update: an item is 'done' once its blob is written; identifiers
-- that name nothing go to the operation's errors.
ALTER TABLE operation_item DROP CONSTRAINT operation_item_status_check;
ALTER TABLE operation_item ADD CONSTRAINT operation_item_status_check
    CHECK (status IN ('pending', 'updated', 'gone', 'failed', 'done'));
