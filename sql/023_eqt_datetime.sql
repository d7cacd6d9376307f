-- 023: extended query tags of VR DT and TM keep their values as
-- dicom_dt_norm and dicom_tm_norm write them (yyyyMMddHHmmss.ffffff
-- without a UTC offset, HHmmss.ffffff), so that a search compares times as
-- the service compares DateTimes and time ticks (2026 finds
-- 20260101000000, 1015 finds 101500), not the digits of the stored text.
UPDATE extended_query_tag_value v SET text_value = dicom_dt_norm(v.text_value)
  FROM extended_query_tag t
 WHERE t.tag_key = v.tag_key AND t.vr = 'DT' AND dicom_dt_norm(v.text_value) IS NOT NULL;
UPDATE extended_query_tag_value v SET text_value = dicom_tm_norm(v.text_value)
  FROM extended_query_tag t
 WHERE t.tag_key = v.tag_key AND t.vr = 'TM' AND dicom_tm_norm(v.text_value) IS NOT NULL;
