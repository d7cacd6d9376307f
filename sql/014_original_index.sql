-- 014: an updated instance's original version is found by its watermark
-- too (the orphan sweep asks whether any row still points at a file).
CREATE INDEX instance_original_watermark_idx ON instance (original_watermark)
    WHERE original_watermark IS NOT NULL;
