-- OpenID Connect provider: other department systems sign citizens in
-- through Zhiban (一次登录，全网通办).
ALTER TABLE citizens ADD COLUMN subject TEXT;
CREATE UNIQUE INDEX citizens_subject ON citizens(subject);

-- Relying parties, registered by administrators. Redirect URIs are compared
-- exactly. Public clients (no secret) must use PKCE, as must everyone.
CREATE TABLE oidc_clients (
    id {{id}},
    client_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    post_logout_uris TEXT NOT NULL,
    min_level BIGINT NOT NULL DEFAULT 1,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

-- RS256 signing keys. The newest unretired key signs; retired keys stay in
-- the JWKS for an overlap window so tokens signed just before a rotation
-- still verify.
CREATE TABLE oidc_keys (
    kid TEXT PRIMARY KEY,
    private_pem TEXT NOT NULL,
    n TEXT NOT NULL,
    e TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);

-- Authorization codes: only a hash is stored; single use, 60 seconds.
CREATE TABLE oidc_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    citizen_id BIGINT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used BIGINT NOT NULL DEFAULT 0
);

-- Access tokens for userinfo (opaque; hash stored). Tokens issued from a
-- code that is later replayed are revoked.
CREATE TABLE oidc_tokens (
    token_hash TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL,
    client_id TEXT NOT NULL,
    citizen_id BIGINT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- What each person allowed each application to see.
CREATE TABLE oidc_grants (
    citizen_id BIGINT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (citizen_id, client_id)
);
