-- Staff passkeys: a second factor beside (or instead of) the one-time code.
ALTER TABLE webauthn_ceremonies RENAME COLUMN citizen_id TO owner_id;
ALTER TABLE staff_users ADD COLUMN webauthn_handle TEXT;
CREATE TABLE staff_passkeys (
    id {{id}},
    staff_id BIGINT NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    cred_id TEXT NOT NULL UNIQUE,
    passkey TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX staff_passkeys_staff ON staff_passkeys(staff_id);
