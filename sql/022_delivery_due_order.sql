-- 022: the index of pending deliveries ends with the outbox id, so that a
-- relay's claim (one subscription: "ORDER BY next_attempt_at, outbox_id
-- LIMIT n") reads its first rows in order and stops, instead of a bitmap
-- scan of every entry of the subscription and a sort. A bitmap scan also
-- never marks the entries of rows delivered since the last vacuum as dead
-- (a delivered row leaves the partial index only then): each claim read
-- them all again, more after every delivery, until autovacuum came.
DROP INDEX IF EXISTS delivery_due_idx;
CREATE INDEX delivery_due_idx ON delivery (subscription, next_attempt_at, outbox_id) WHERE status = 'pending';
