-- Keys for field encryption (#6). Data keys are wrapped by the master key,
-- which never enters the database (environment or key file). One data key
-- is active; retired keys stay so older values still decrypt until
-- `zhiban keys rotate` has moved every row. The blind-index key is separate
-- and is not rotated with the data keys (a new one would need every index
-- recomputed).
CREATE TABLE crypto_keys (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    suite TEXT NOT NULL,
    wrapped TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per `zhiban keys rotate`; an unfinished row is resumed.
CREATE TABLE key_rotations (
    id {{id}},
    to_key TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    moved BIGINT NOT NULL DEFAULT 0
);

-- Signing keys (SM2 or Ed25519): one per department for e-licenses, one for
-- the audit head. The secret is field-encrypted; the public key is plain.
CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    suite TEXT NOT NULL,
    public_key TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE INDEX signing_keys_owner ON signing_keys(owner, created_at);

-- Blind indexes: keyed MACs of normalised values, so exact lookups work while
-- the values themselves are encrypted. Existing rows are encrypted and
-- indexed at the next start (the same pass as key rotation).
ALTER TABLE citizens ADD COLUMN phone_bidx TEXT NOT NULL DEFAULT '';
ALTER TABLE citizens ADD COLUMN id_number_bidx TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX citizens_phone_bidx ON citizens(phone_bidx) WHERE phone_bidx <> '';
CREATE UNIQUE INDEX citizens_id_number_bidx ON citizens(id_number_bidx) WHERE id_number_bidx <> '';
ALTER TABLE cases ADD COLUMN applicant_phone_bidx TEXT NOT NULL DEFAULT '';

-- Signed checkpoints of the audit chain (a signed tree head): once a
-- minute the job runner signs the newest (seq, hash) with the audit key,
-- so someone who rewrites the whole chain cannot re-sign it.
CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    hash TEXT NOT NULL,
    signing_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    at BIGINT NOT NULL
);
