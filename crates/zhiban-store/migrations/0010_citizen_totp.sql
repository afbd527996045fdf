-- Citizens may turn on a one-time code as a second step after the
-- password or SMS code. A session waits at 'pending' until it is given.
ALTER TABLE citizens ADD COLUMN totp_secret TEXT;
ALTER TABLE citizens ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE citizen_sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full';
ALTER TABLE citizen_sessions ADD COLUMN totp_pending TEXT;
