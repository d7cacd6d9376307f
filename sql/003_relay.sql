-- 003: event delivery. Relays register their subscriptions (with the
-- filters that decide which events they get); a relay that claims an outbox
-- row fans it out to every live subscription; each relay then claims the
-- due deliveries of its own subscriptions by lease.

ALTER TABLE outbox ADD COLUMN fanned_out boolean NOT NULL DEFAULT false;
CREATE INDEX outbox_fanout_idx ON outbox (id) WHERE NOT fanned_out;

CREATE TABLE subscription (
    name                   text PRIMARY KEY,
    provider               text NOT NULL,
    event_types            text[],              -- lower case; NULL = every type
    subject_begins_with    text,
    subject_ends_with      text,
    subject_case_sensitive boolean NOT NULL DEFAULT false,
    created_at             timestamptz NOT NULL DEFAULT now(),
    seen_at                timestamptz NOT NULL DEFAULT now()  -- a relay's heartbeat
);

CREATE TABLE delivery (
    outbox_id          bigint NOT NULL REFERENCES outbox ON DELETE CASCADE,
    subscription       text NOT NULL REFERENCES subscription ON DELETE CASCADE,
    status             text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'delivered', 'dead', 'dropped')),
    attempts           int NOT NULL DEFAULT 0,
    next_attempt_at    timestamptz NOT NULL DEFAULT now(),
    locked_until       timestamptz,
    locked_by          text,
    last_status        int,
    last_outcome       text,
    last_attempt_at    timestamptz,
    delivered_at       timestamptz,
    dead_letter_reason text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (outbox_id, subscription)
);
CREATE INDEX delivery_due_idx ON delivery (subscription, next_attempt_at) WHERE status = 'pending';
