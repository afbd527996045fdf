-- Passkeys (WebAuthn): a person signs in with a key their phone or
-- computer keeps, unlocked by fingerprint, face or PIN.
CREATE TABLE passkeys (
    id {{id}},
    citizen_id BIGINT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    cred_id TEXT NOT NULL UNIQUE,
    passkey TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_citizen ON passkeys(citizen_id);

-- Ceremonies in flight (registration or sign-in): kept in the database so
-- any node can finish what another began. Single use, five minutes.
CREATE TABLE webauthn_ceremonies (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    citizen_id BIGINT,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Secrets this installation makes for itself on first use.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
