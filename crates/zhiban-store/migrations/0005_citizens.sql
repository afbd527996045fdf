-- Citizen and company accounts (统一身份认证). Real-name levels: 1 registered
-- (phone verified), 2 ID verified, 3 face or counter verified.
CREATE TABLE citizens (
    id {{id}},
    phone TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    id_number TEXT NOT NULL DEFAULT '',
    level BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX citizens_id_number ON citizens(id_number) WHERE id_number <> '';

-- Only a hash of the cookie value is stored, as for staff.
CREATE TABLE citizen_sessions (
    id TEXT PRIMARY KEY,
    citizen_id BIGINT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX citizen_sessions_citizen ON citizen_sessions(citizen_id);

-- Login history shown in the account centre.
CREATE TABLE citizen_logins (
    id {{id}},
    citizen_id BIGINT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    method TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX citizen_logins_citizen ON citizen_logins(citizen_id, at);

-- Consent records (个人信息保护法): what was agreed to, which version, when.
CREATE TABLE consents (
    id {{id}},
    citizen_id BIGINT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    version TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    withdrawn_at BIGINT
);

-- One-time SMS codes: only a hash is kept; each allows a few attempts.
CREATE TABLE sms_codes (
    id {{id}},
    phone TEXT NOT NULL,
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    used BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sms_codes_phone ON sms_codes(phone, created_at);

-- What the development SMS gateway "sent" (no real SMS leaves the machine).
CREATE TABLE sms_outbox (
    id {{id}},
    phone TEXT NOT NULL,
    body TEXT NOT NULL,
    gateway TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
