-- Does an event match a subscription's filters (Event Grid's
-- includedEventTypes, subjectBeginsWith, subjectEndsWith)?
CREATE OR REPLACE FUNCTION dicom_subscription_matches(s subscription, p_type text, p_subject text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (s.event_types IS NULL OR lower(p_type) = ANY (s.event_types))
       AND (s.subject_begins_with IS NULL OR CASE WHEN s.subject_case_sensitive
                THEN left(p_subject, length(s.subject_begins_with)) = s.subject_begins_with
                ELSE lower(left(p_subject, length(s.subject_begins_with))) = lower(s.subject_begins_with) END)
       AND (s.subject_ends_with IS NULL OR CASE WHEN s.subject_case_sensitive
                THEN right(p_subject, length(s.subject_ends_with)) = s.subject_ends_with
                ELSE lower(right(p_subject, length(s.subject_ends_with))) = lower(s.subject_ends_with) END)
$$;
