-- Findings of the security assessment (#13).
--
-- When the person behind a session actually signed in (both factors): the
-- OpenID Connect `auth_time`, `max_age` and `prompt=login` are judged by it.
ALTER TABLE citizen_sessions ADD COLUMN auth_at BIGINT NOT NULL DEFAULT 0;
UPDATE citizen_sessions SET auth_at = created_at;

-- Audit checkpoints are numbered and each names the one before, so a
-- missing checkpoint shows as a gap; `at` is signed too, so a checkpoint's
-- age can be trusted. Old rows keep n = 0 (signed the old way).
ALTER TABLE audit_checkpoints ADD COLUMN n BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_checkpoints ADD COLUMN prev_seq BIGINT NOT NULL DEFAULT 0;
