-- 大家都在搜 (hot searches) are shown to everyone, so nobody may write the
-- list by searching: each search records a keyed hash of the client (never
-- the address itself), a query becomes a candidate only when many distinct
-- clients searched it on several days, and staff approve or block each
-- candidate before it is shown.
ALTER TABLE search_log ADD COLUMN client_key TEXT NOT NULL DEFAULT '';

CREATE TABLE hot_search_reviews (
    query TEXT PRIMARY KEY,
    -- 'approved' or 'blocked'
    decision TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at BIGINT NOT NULL
);
