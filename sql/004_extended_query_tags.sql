-- 004: extended query tags and long-running operations.
-- Tag values are taken from each instance's stored DICOM JSON (no file is
-- read again); a reindex operation walks the instances in watermark order,
-- batch by batch, from a cursor that survives any restart.

CREATE TABLE extended_query_tag (
    tag_key         serial PRIMARY KEY,
    path            text NOT NULL UNIQUE,       -- 8 upper-case hex digits
    vr              text NOT NULL,
    private_creator text,
    level           text NOT NULL CHECK (level IN ('study', 'series', 'instance')),
    status          text NOT NULL DEFAULT 'adding' CHECK (status IN ('adding', 'ready', 'deleting')),
    query_status    text NOT NULL DEFAULT 'enabled' CHECK (query_status IN ('enabled', 'disabled')),
    error_count     int NOT NULL DEFAULT 0,
    operation_id    uuid,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- one value per (tag, instance): the first value of the attribute
CREATE TABLE extended_query_tag_value (
    tag_key       int NOT NULL REFERENCES extended_query_tag ON DELETE CASCADE,
    watermark     bigint NOT NULL REFERENCES instance ON DELETE CASCADE,
    partition_key int NOT NULL,
    study_uid     text NOT NULL,
    series_key    bigint NOT NULL,
    text_value    text,
    num_value     double precision,
    pn_norm       text,
    PRIMARY KEY (tag_key, watermark)
);
CREATE INDEX eqt_value_text_idx ON extended_query_tag_value (tag_key, lower(text_value));
CREATE INDEX eqt_value_num_idx ON extended_query_tag_value (tag_key, num_value);
CREATE INDEX eqt_value_pn_idx ON extended_query_tag_value (tag_key, pn_norm);

CREATE TABLE extended_query_tag_error (
    tag_key       int NOT NULL REFERENCES extended_query_tag ON DELETE CASCADE,
    watermark     bigint NOT NULL REFERENCES instance ON DELETE CASCADE,
    partition_key int NOT NULL,
    study_uid     text NOT NULL,
    series_uid    text NOT NULL,
    sop_uid       text NOT NULL,
    error_message text NOT NULL,
    created_time  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tag_key, watermark)
);

CREATE TABLE operation (
    id                uuid PRIMARY KEY,
    type              text NOT NULL,             -- reindex
    status            text NOT NULL DEFAULT 'notStarted'
                      CHECK (status IN ('notStarted', 'running', 'succeeded', 'failed', 'canceled')),
    created_time      timestamptz NOT NULL DEFAULT now(),
    last_updated_time timestamptz NOT NULL DEFAULT now(),
    percent_complete  int NOT NULL DEFAULT 0,
    tag_keys          int[] NOT NULL DEFAULT '{}',
    resources         text[] NOT NULL DEFAULT '{}', -- tag paths, made into URIs when answered
    cursor_watermark  bigint NOT NULL DEFAULT 0,     -- done up to here
    end_watermark     bigint,                        -- the last instance when the work began
    errors            text[] NOT NULL DEFAULT '{}',
    locked_until      timestamptz,
    locked_by         text
);
CREATE INDEX operation_active_idx ON operation (created_time) WHERE status IN ('notStarted', 'running');
