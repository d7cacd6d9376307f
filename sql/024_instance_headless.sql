-- 024: instances stored before step 017 have no head; outbox-relay gives
-- them one in the background (db_relay_fill_heads), found through this
-- index of those left, which is empty once they all have one (and from the
-- start on a database made after 017).
CREATE INDEX instance_headless_idx ON instance (watermark) WHERE head IS NULL;
