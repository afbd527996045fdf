-- Open311 GeoReport v2: other systems (apps, 12345 call-centre software)
-- file and read requests with an API key. Only a SHA-256 hash of each key
-- is kept; a request remembers the key that filed it, so that client can
-- follow it, and the map point it came with.
CREATE TABLE api_keys (
    id {{id}},
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    -- The first characters, to tell keys apart in the list.
    prefix TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

ALTER TABLE requests ADD COLUMN api_key_id BIGINT REFERENCES api_keys(id);
ALTER TABLE requests ADD COLUMN lat DOUBLE PRECISION;
ALTER TABLE requests ADD COLUMN lon DOUBLE PRECISION;
CREATE INDEX requests_api_key ON requests(api_key_id, submitted_at);
