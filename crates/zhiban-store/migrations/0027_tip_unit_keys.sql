-- Tips readable only by the receiving unit's handlers, by keys the server
-- does not hold (zhiban_domain::tips::keys, identity::staff_keys).
--
-- Each handler has an SM2 key pair; the secret is sealed under a key
-- derived (argon2id) from the password they chose, and, while they are
-- signed in, under a key derived from their session cookie (key_box; the
-- table keeps only the cookie's hash).
CREATE TABLE staff_keys (
    staff_id BIGINT PRIMARY KEY REFERENCES staff_users(id),
    public_key TEXT NOT NULL,
    salt TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
ALTER TABLE staff_sessions ADD COLUMN key_box TEXT;

-- Each unit that receives tips has an SM2 key pair. Its secret exists only
-- sealed for each handler's public key (unit_key_grants), except between
-- the first tip and the first handler's sign-in (pending_secret, under the
-- server's data key, cleared when a handler takes it over).
CREATE TABLE unit_keys (
    unit_id BIGINT PRIMARY KEY REFERENCES departments(id),
    public_key TEXT NOT NULL,
    pending_secret TEXT,
    created_at BIGINT NOT NULL
);
CREATE TABLE unit_key_grants (
    unit_id BIGINT NOT NULL REFERENCES departments(id),
    staff_id BIGINT NOT NULL REFERENCES staff_users(id),
    sealed_secret TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (unit_id, staff_id)
);

-- A tip's content, messages and files are sealed under a key of its own
-- (values start with tk1:), itself sealed for the unit (unit_key) and for
-- the reporter under a key derived from the secret shown once
-- (reporter_key). Tips filed before this migration keep the data key.
ALTER TABLE tips ADD COLUMN unit_key TEXT;
ALTER TABLE tips ADD COLUMN reporter_key TEXT;
