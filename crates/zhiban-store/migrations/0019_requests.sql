-- 政民互动: citizen requests (诉求) through one entry, their closed loop
-- and the dispatch catalogue that routes them.

-- 派单目录: each category goes to one responsible unit. Staff edit it;
-- the router learns from it and from confirmed requests.
CREATE TABLE request_categories (
    id {{id}},
    name TEXT NOT NULL UNIQUE,
    unit_id BIGINT NOT NULL REFERENCES departments(id),
    description TEXT NOT NULL DEFAULT '',
    position BIGINT NOT NULL DEFAULT 0
);

-- Streets (街道/乡镇) of each district, for the location picker.
CREATE TABLE request_streets (
    district_id BIGINT NOT NULL REFERENCES departments(id),
    name TEXT NOT NULL,
    PRIMARY KEY (district_id, name)
);

-- A request. `desk` says whose step is due ('dispatcher', 'unit' or ''),
-- `running` whether the answer clock counts; both are derived from the
-- state on every write, so the lists read one index range in deadline
-- order. The contact phone is encrypted (pii::ctx::REQUEST_PHONE).
CREATE TABLE requests (
    id {{id}},
    number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    mailbox TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    district_id BIGINT REFERENCES departments(id),
    street TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    citizen_id BIGINT REFERENCES citizens(id) ON DELETE SET NULL,
    contact_name TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    -- The citizen agreed to 公开选登 at submission; staff chose to publish.
    publish_ok BIGINT NOT NULL DEFAULT 0,
    published BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    category_id BIGINT REFERENCES request_categories(id),
    -- What the router proposed when the request came in.
    suggested_category_id BIGINT REFERENCES request_categories(id),
    unit_id BIGINT REFERENCES departments(id),
    merged_into BIGINT REFERENCES requests(id),
    answer TEXT NOT NULL DEFAULT '',
    satisfaction TEXT NOT NULL DEFAULT '',
    reopened BIGINT NOT NULL DEFAULT 0,
    -- A unit's extension request waiting for the dispatcher (working days).
    extension_asked BIGINT NOT NULL DEFAULT 0,
    extended_days BIGINT NOT NULL DEFAULT 0,
    submitted_at BIGINT NOT NULL,
    due_on TEXT NOT NULL,
    yellow_on TEXT NOT NULL,
    dispatched_at BIGINT,
    sign_due_on TEXT NOT NULL DEFAULT '',
    signed_at BIGINT,
    answered_at BIGINT,
    concluded_at BIGINT,
    updated_at BIGINT NOT NULL,
    revision BIGINT NOT NULL DEFAULT 1,
    desk TEXT NOT NULL DEFAULT '',
    running BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX requests_desk ON requests(desk, due_on, id);
CREATE INDEX requests_unit_desk ON requests(unit_id, desk, due_on, id);
CREATE INDEX requests_running ON requests(running, due_on, id);
-- Extension requests waiting for the dispatcher (few among many).
CREATE INDEX requests_extension ON requests(extension_asked, due_on, id);
CREATE INDEX requests_submitted ON requests(submitted_at);
CREATE INDEX requests_citizen ON requests(citizen_id, submitted_at);
CREATE INDEX requests_place ON requests(district_id, street, running);
CREATE INDEX requests_merged ON requests(merged_into);
CREATE INDEX requests_published ON requests(published, concluded_at);

CREATE TABLE request_events (
    id {{id}},
    request_id BIGINT NOT NULL REFERENCES requests(id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX request_events_request ON request_events(request_id, id);
CREATE INDEX request_events_actor ON request_events(actor, request_id);

CREATE TABLE request_counters (
    day TEXT PRIMARY KEY,
    n BIGINT NOT NULL
);

-- Permissions: 话务员/派单员 (the 热线坐席 role) accept and dispatch;
-- units' handlers sign, handle and answer.
INSERT INTO role_permissions (role_id, permission) SELECT id, 'requests.dispatch' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'requests.handle' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'requests.dispatch' FROM roles WHERE code = 'call_agent';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'requests.handle' FROM roles WHERE code = 'case_handler';
