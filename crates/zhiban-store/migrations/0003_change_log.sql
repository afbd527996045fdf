-- The change log other nodes follow (see zhiban_domain::changes).
CREATE TABLE change_log (
    id {{id}},
    topic TEXT NOT NULL,
    key TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
