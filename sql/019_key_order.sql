-- 019: searches page studies and series newest first by their key, as the
-- service does (SqlQueryGenerator: ORDER BY StudyKey DESC / SeriesKey DESC),
-- not by their latest instance; so a study's and a series' rows no longer
-- change with every instance stored into them (each change wrote an entry
-- in each of their indexes), only when an attribute does.
ALTER TABLE study DROP COLUMN last_watermark;  -- and study_latest_idx
ALTER TABLE series DROP COLUMN last_watermark; -- and series_study_idx, series_latest_idx
CREATE INDEX study_order_idx ON study (partition_key, study_key);
