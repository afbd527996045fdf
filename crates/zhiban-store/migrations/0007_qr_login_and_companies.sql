-- Scan-to-login (扫码登录): one row per QR code shown on a desktop.
CREATE TABLE qr_logins (
    code TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    citizen_id BIGINT REFERENCES citizens(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);

-- Company (法人) accounts: registered by the legal representative, acting
-- through agents (经办人) the representative authorises and revokes.
CREATE TABLE companies (
    id {{id}},
    uscc TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    legal_rep_id BIGINT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

CREATE TABLE company_agents (
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    citizen_id BIGINT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    granted_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (company_id, citizen_id)
);

-- Counter verification (L3) records which staff member checked the ID card.
ALTER TABLE citizens ADD COLUMN verified_by TEXT NOT NULL DEFAULT '';
