-- 005: where each frame's bytes are in an instance's file, computed once on
-- the first frame request and kept: "offset:length[,offset:length...]" per
-- frame, frames separated by ';' (compressed frames may span fragments).
ALTER TABLE instance ADD COLUMN frame_ranges text;
