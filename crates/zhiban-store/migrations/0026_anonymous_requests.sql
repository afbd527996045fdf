-- 匿名反映: 举报 and 建议 may be sent without an account. The writer
-- follows the request with its number and a secret shown once; only the
-- secret's argon2 hash is kept, with no contact, address of the sender or
-- device.
ALTER TABLE requests ADD COLUMN anonymous BIGINT NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN secret_hash TEXT NOT NULL DEFAULT '';
