-- 智能客服 (#19): the knowledge base staff maintain, conversations with
-- their turns, and the questions it could not answer (the editors' queue).

CREATE TABLE assistant_knowledge (
    id {{id}},
    question TEXT NOT NULL,
    -- Other ways of asking, one per line.
    variants TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL,
    -- Cited links, one per line: title|url
    links TEXT NOT NULL DEFAULT '',
    -- YYYY-MM-DD, empty = no limit
    valid_from TEXT NOT NULL DEFAULT '',
    valid_until TEXT NOT NULL DEFAULT '',
    active BIGINT NOT NULL DEFAULT 1,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE assistant_sessions (
    id TEXT PRIMARY KEY,
    -- The topic carried between turns (JSON).
    topic TEXT NOT NULL DEFAULT '{}',
    citizen_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE assistant_turns (
    id {{id}},
    session_id TEXT NOT NULL REFERENCES assistant_sessions(id),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    -- JSON array of {title, url}
    sources TEXT NOT NULL DEFAULT '[]',
    kind TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    asked_at BIGINT NOT NULL
);
CREATE INDEX assistant_turns_session ON assistant_turns (session_id, id);

CREATE TABLE assistant_unanswered (
    id {{id}},
    -- The question normalised (简体, no spaces or punctuation): one row per wording.
    normalized TEXT NOT NULL UNIQUE,
    question TEXT NOT NULL,
    times BIGINT NOT NULL DEFAULT 1,
    first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    -- open, answered (a knowledge entry now covers it), dismissed
    status TEXT NOT NULL DEFAULT 'open',
    knowledge_id BIGINT,
    handled_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX assistant_unanswered_open ON assistant_unanswered (status, times);

INSERT INTO role_permissions (role_id, permission) SELECT id, 'assistant.manage' FROM roles WHERE code IN ('system_admin', 'content_editor', 'call_agent');
