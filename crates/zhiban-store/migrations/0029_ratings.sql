-- 好差评 (国办发〔2019〕51号): one rating per case (一事一评) or per counter
-- visit (一次一评). A counter visit is invited by a text with a link whose
-- token is kept only as a hash; the visitor's phone is encrypted
-- (pii::ctx::VISIT_PHONE), as is a rating's free text (RATING_COMMENT).
CREATE TABLE rating_visits (
    id {{id}},
    token_hash TEXT NOT NULL UNIQUE,
    unit_id BIGINT NOT NULL REFERENCES departments(id),
    service_code TEXT NOT NULL DEFAULT '',
    service_name TEXT NOT NULL DEFAULT '',
    staff TEXT NOT NULL,
    staff_label TEXT NOT NULL,
    phone TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX rating_visits_unit ON rating_visits(unit_id, created_at);

-- score: 5 非常满意 … 1 非常不满意; 1 and 2 are bad ratings (差评).
-- day: the Beijing date, for monthly statistics.
CREATE TABLE ratings (
    id {{id}},
    channel TEXT NOT NULL,
    case_id BIGINT UNIQUE REFERENCES cases(id),
    visit_id BIGINT UNIQUE REFERENCES rating_visits(id),
    citizen_id BIGINT REFERENCES citizens(id) ON DELETE SET NULL,
    service_code TEXT NOT NULL,
    service_name TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES departments(id),
    staff TEXT NOT NULL,
    staff_label TEXT NOT NULL,
    score BIGINT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    real_name BIGINT NOT NULL,
    day TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ratings_day ON ratings(day, unit_id);

-- 差评整改: one per bad rating, worked by the rated unit: 待核实 → 整改中
-- → 待回访 (real-name ratings) → 已办结; the rater may appeal once, which
-- opens it again.
CREATE TABLE rectifications (
    id {{id}},
    rating_id BIGINT NOT NULL UNIQUE REFERENCES ratings(id),
    unit_id BIGINT NOT NULL REFERENCES departments(id),
    state TEXT NOT NULL,
    due_on TEXT NOT NULL,
    verdict TEXT NOT NULL DEFAULT '',
    finding TEXT NOT NULL DEFAULT '',
    remedy TEXT NOT NULL DEFAULT '',
    resolved_at BIGINT,
    followup TEXT NOT NULL DEFAULT '',
    followup_at BIGINT,
    appeal TEXT NOT NULL DEFAULT '',
    appealed_at BIGINT,
    closed_at BIGINT,
    revision BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX rectifications_unit ON rectifications(unit_id, state);

CREATE TABLE rectification_events (
    id {{id}},
    rectification_id BIGINT NOT NULL REFERENCES rectifications(id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX rectification_events_of ON rectification_events(rectification_id, id);

INSERT INTO role_permissions (role_id, permission) SELECT id, 'ratings.handle' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'ratings.handle' FROM roles WHERE code = 'dept_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'ratings.handle' FROM roles WHERE code = 'case_handler';
