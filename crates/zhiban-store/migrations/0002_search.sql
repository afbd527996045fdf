-- Staff-maintained search synonyms and colloquial phrases (丢了 → 补领).
CREATE TABLE search_synonyms (
    id {{id}},
    phrase TEXT NOT NULL UNIQUE,
    replacement TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Search analytics: one row per search (first page only), and the results
-- people opened from it.
CREATE TABLE search_log (
    id {{id}},
    query TEXT NOT NULL,
    results BIGINT NOT NULL,
    searched_at BIGINT NOT NULL
);
CREATE INDEX search_log_time ON search_log(searched_at);

CREATE TABLE search_clicks (
    id {{id}},
    search_id BIGINT NOT NULL REFERENCES search_log(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    clicked_at BIGINT NOT NULL
);
CREATE INDEX search_clicks_search ON search_clicks(search_id);
