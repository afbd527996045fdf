-- Org tree: 市 → 区县 → 部门 → 科室.
CREATE TABLE departments (
    id {{id}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    parent_id BIGINT REFERENCES departments(id),
    level TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    hours TEXT NOT NULL DEFAULT '',
    sort BIGINT NOT NULL DEFAULT 0
);

-- One row per handling item (办理项); main items (主项) group them by main_code.
-- List-valued fields are JSON text so both engines store them the same way.
CREATE TABLE services (
    id {{id}},
    code TEXT NOT NULL UNIQUE,
    main_code TEXT NOT NULL,
    main_name TEXT NOT NULL,
    name TEXT NOT NULL,
    handling_kind TEXT NOT NULL,
    item_type TEXT NOT NULL,
    department_id BIGINT NOT NULL REFERENCES departments(id),
    implementing_body TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    audience TEXT NOT NULL,
    life_events TEXT NOT NULL,
    police_domain TEXT NOT NULL DEFAULT '',
    conditions TEXT NOT NULL,
    materials TEXT NOT NULL,
    steps TEXT NOT NULL,
    legal_limit_days BIGINT NOT NULL,
    promised_limit_days BIGINT NOT NULL,
    fees TEXT NOT NULL,
    fee_basis TEXT NOT NULL,
    place TEXT NOT NULL,
    hours TEXT NOT NULL,
    visits BIGINT NOT NULL,
    online BIGINT NOT NULL,
    enquiry_phone TEXT NOT NULL,
    complaint_phone TEXT NOT NULL,
    high_frequency BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX services_main_code ON services(main_code);
CREATE INDEX services_department ON services(department_id);
CREATE INDEX services_status ON services(status);

-- Change history: a full snapshot per saved version.
CREATE TABLE service_revisions (
    id {{id}},
    service_code TEXT NOT NULL,
    version BIGINT NOT NULL,
    action TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    snapshot TEXT NOT NULL
);
CREATE INDEX service_revisions_code ON service_revisions(service_code, version);

CREATE TABLE staff_users (
    id {{id}},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Sessions live in the database so any node can serve any request.
-- The id column holds a hash of the cookie value, never the value itself.
CREATE TABLE staff_sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE login_failures (
    id {{id}},
    username TEXT NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX login_failures_user ON login_failures(username, failed_at);
