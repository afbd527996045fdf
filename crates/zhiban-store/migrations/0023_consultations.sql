-- 征集调查: draft-policy consultations (征求意见: the draft, a period,
-- comments shown after moderation, a published feedback summary) and
-- surveys (问卷调查: questions in the form engine's schema, one answer per
-- account, or per device where answering without an account is allowed).
CREATE TABLE consultations (
    id {{id}},
    -- 'consultation' or 'survey'
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    -- The draft's text (consultations).
    body TEXT NOT NULL DEFAULT '',
    -- The questions as a form schema in JSON (surveys).
    schema_json TEXT NOT NULL DEFAULT '',
    unit_id BIGINT NOT NULL REFERENCES departments(id),
    opens_at BIGINT NOT NULL,
    closes_at BIGINT NOT NULL,
    -- Surveys: answering without an account (one answer per device).
    anonymous BIGINT NOT NULL DEFAULT 0,
    -- 采纳情况 / 结果反馈, published once written.
    feedback TEXT NOT NULL DEFAULT '',
    feedback_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX consultations_when ON consultations(closes_at);

CREATE TABLE consultation_comments (
    id {{id}},
    consultation_id BIGINT NOT NULL REFERENCES consultations(id),
    citizen_id BIGINT REFERENCES citizens(id) ON DELETE SET NULL,
    speaker TEXT NOT NULL,
    body TEXT NOT NULL,
    -- 'pending', 'shown' or 'rejected'
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX consultation_comments_of ON consultation_comments(consultation_id, state, id);

-- One row per answer. `device` is a SHA-256 hash of the answering
-- browser's random device cookie (anonymous answers only).
CREATE TABLE survey_answers (
    id {{id}},
    consultation_id BIGINT NOT NULL REFERENCES consultations(id),
    citizen_id BIGINT REFERENCES citizens(id) ON DELETE SET NULL,
    device TEXT,
    answers TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (consultation_id, citizen_id),
    UNIQUE (consultation_id, device)
);

INSERT INTO role_permissions (role_id, permission) SELECT id, 'consultations.manage' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'consultations.manage' FROM roles WHERE code = 'reviewer';
