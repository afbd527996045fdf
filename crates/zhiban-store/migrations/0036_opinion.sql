-- 舆情监测 (#19): what people say, gathered from the portal (requests,
-- department answers, 好差评 words, comments, interview questions) and from
-- external RSS/Atom feeds staff configure; each item read for sentiment
-- and topic. Personal numbers are masked before a text is kept here.

CREATE TABLE opinion_feeds (
    id {{id}},
    name TEXT NOT NULL,
    url TEXT NOT NULL UNIQUE,
    active BIGINT NOT NULL DEFAULT 1,
    fetched_at BIGINT,
    -- The last fetch's failure (empty when it worked).
    last_error TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE opinion_items (
    id {{id}},
    -- request, answer, rating, comment, question, feed
    source TEXT NOT NULL,
    -- The row it came from (a request number, a rating id, a feed entry id).
    source_ref TEXT NOT NULL,
    feed_id BIGINT REFERENCES opinion_feeds(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    -- Where staff read the original (a staff page, or the article's link).
    url TEXT NOT NULL DEFAULT '',
    -- negative, neutral, positive; score ×1000 (negative below zero)
    sentiment TEXT NOT NULL,
    score BIGINT NOT NULL,
    topic TEXT NOT NULL,
    -- The words that decided sentiment and topic, and watched words found, '、'-joined.
    cues TEXT NOT NULL DEFAULT '',
    watched TEXT NOT NULL DEFAULT '',
    -- Beijing date it was said on (YYYY-MM-DD).
    day TEXT NOT NULL,
    said_at BIGINT NOT NULL,
    collected_at BIGINT NOT NULL,
    UNIQUE (source, source_ref)
);
CREATE INDEX opinion_items_day ON opinion_items (day, topic);
CREATE INDEX opinion_items_topic ON opinion_items (topic, said_at);

-- How far each portal source has been read (the last id, or for
-- answers the last answer time).
CREATE TABLE opinion_cursors (
    source TEXT PRIMARY KEY,
    upto BIGINT NOT NULL
);

-- Keyword watch list: an item that contains one raises an alert.
CREATE TABLE opinion_watch (
    id {{id}},
    word TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Alerts: kind volume (a topic's items), negative (a topic's negative
-- items) or watch (a watched word); one per subject a day, its count kept
-- current.
CREATE TABLE opinion_alerts (
    id {{id}},
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    day TEXT NOT NULL,
    count BIGINT NOT NULL,
    -- The usual daily count (×100) it was measured against.
    baseline BIGINT NOT NULL DEFAULT 0,
    seen_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    UNIQUE (kind, subject, day)
);
CREATE INDEX opinion_alerts_day ON opinion_alerts (day);

-- The alert rules (one row): days of history a baseline is taken from,
-- the fewest items that can make a spike, and how many times the usual
-- count it takes.
CREATE TABLE opinion_rules (
    id BIGINT PRIMARY KEY,
    baseline_days BIGINT NOT NULL,
    min_count BIGINT NOT NULL,
    ratio_pct BIGINT NOT NULL,
    every_minutes BIGINT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL DEFAULT 0
);
INSERT INTO opinion_rules (id, baseline_days, min_count, ratio_pct, every_minutes) VALUES (1, 14, 5, 200, 15);

INSERT INTO role_permissions (role_id, permission) SELECT id, 'opinion.monitor' FROM roles WHERE code IN ('system_admin', 'call_agent');
