-- 023: an extended query tag of VR DT keeps its values as dicom_dt_norm
-- writes them (yyyyMMddHHmmss.ffffff, without a UTC offset), so that a
-- search compares times as the service compares DateTimes (2026 finds
-- 20260101120000), not the digits of the stored text.
UPDATE extended_query_tag_value v SET text_value = dicom_dt_norm(v.text_value)
  FROM extended_query_tag t
 WHERE t.tag_key = v.tag_key AND t.vr = 'DT' AND dicom_dt_norm(v.text_value) IS NOT NULL;
