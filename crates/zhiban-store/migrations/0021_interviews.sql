-- 在线访谈 / 警方在线: scheduled interviews with guests, questions from
-- citizens moderated before they show, guests' answers, the host's words
-- and photos, streamed live and kept as a transcript.
CREATE TABLE interviews (
    id {{id}},
    -- 'interview' (在线访谈) or 'police' (警方在线: 网上警局 office hours)
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    -- One guest per line: 姓名｜职务
    guests TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES departments(id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    -- 'scheduled', 'live' or 'ended'
    state TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX interviews_when ON interviews(starts_at);

-- What is said: a citizen's question ('question', pending until a
-- moderator shows it), a guest's answer ('answer', to a question or on
-- its own), the host's words ('host') and photos ('photo', a file key).
CREATE TABLE interview_posts (
    id {{id}},
    interview_id BIGINT NOT NULL REFERENCES interviews(id),
    kind TEXT NOT NULL,
    speaker TEXT NOT NULL,
    citizen_id BIGINT REFERENCES citizens(id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    reply_to BIGINT REFERENCES interview_posts(id),
    file_key TEXT,
    -- 'pending', 'shown' or 'rejected'
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    shown_at BIGINT
);
CREATE INDEX interview_posts_of ON interview_posts(interview_id, state, id);

-- The live stream: every change a viewer must see, in order. A page
-- remembers the last id it shows and asks for what came after it (the
-- server-sent events' Last-Event-ID), on any node.
-- what: 'shown' (a post appears), 'hidden' (a post is withdrawn),
-- 'state' (the interview starts or ends), 'asked' (a question waits for
-- the moderators; staff streams only).
CREATE TABLE interview_events (
    id {{id}},
    interview_id BIGINT NOT NULL REFERENCES interviews(id),
    what TEXT NOT NULL,
    post_id BIGINT,
    at BIGINT NOT NULL
);
CREATE INDEX interview_events_of ON interview_events(interview_id, id);

INSERT INTO role_permissions (role_id, permission) SELECT id, 'interviews.host' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'interviews.host' FROM roles WHERE code = 'reviewer';
