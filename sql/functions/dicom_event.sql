-- Writes an event to the outbox, as Azure's Event Grid event, and wakes
-- the relays.
CREATE OR REPLACE FUNCTION dicom_event(p_type text, p_partition text, p_study text, p_series text, p_sop text,
                            p_sequence bigint, p_time timestamptz, p_host text, p_topic text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := gen_random_uuid();
    v_subject text := p_host || '/v1/partitions/' || p_partition || '/studies/' || p_study
                      || '/series/' || p_series || '/instances/' || p_sop;
BEGIN
    INSERT INTO outbox (event_id, event_type, subject, sequence, event_time, payload)
    VALUES (v_id, p_type, v_subject, p_sequence, p_time,
        json_build_object(
            'id', v_id,
            'topic', p_topic,
            'subject', v_subject,
            'data', json_build_object(
                'partitionName', p_partition,
                'imageStudyInstanceUid', p_study,
                'imageSeriesInstanceUid', p_series,
                'imageSopInstanceUid', p_sop,
                'serviceHostName', p_host,
                'sequenceNumber', p_sequence),
            'eventType', p_type,
            'dataVersion', '1',
            'metadataVersion', '1',
            'eventTime', to_char(p_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')));
    PERFORM pg_notify('outbox', p_sequence::text);
END $$;
