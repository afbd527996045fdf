-- The real-name level (实名等级) an online application needs.
ALTER TABLE services ADD COLUMN realname_level BIGINT NOT NULL DEFAULT 2;

-- A staff member's mobile number, for supervision reminders (optional).
ALTER TABLE staff_users ADD COLUMN phone TEXT NOT NULL DEFAULT '';

-- Where a citizen wants case notifications by email (optional).
ALTER TABLE citizens ADD COLUMN email TEXT NOT NULL DEFAULT '';

-- Smart forms: one row per version; one draft and one published at most.
CREATE TABLE forms (
    id {{id}},
    service_code TEXT NOT NULL,
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    schema TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (service_code, version)
);

-- Case numbers are counted per day inside the submitting transaction.
CREATE TABLE case_counters (
    day TEXT PRIMARY KEY,
    n BIGINT NOT NULL
);

-- 办件. Dates of deadlines are local dates as YYYY-MM-DD, which compare
-- correctly as text on both engines. The case keeps the form schema it was
-- filed with. A deleted citizen account leaves its cases (public records)
-- without the account link.
CREATE TABLE cases (
    id {{id}},
    number TEXT NOT NULL UNIQUE,
    service_code TEXT NOT NULL,
    service_name TEXT NOT NULL,
    department_id BIGINT NOT NULL REFERENCES departments(id),
    citizen_id BIGINT REFERENCES citizens(id) ON DELETE SET NULL,
    applicant_name TEXT NOT NULL,
    applicant_phone TEXT NOT NULL,
    form_version BIGINT NOT NULL,
    form_schema TEXT NOT NULL,
    answers TEXT NOT NULL,
    state TEXT NOT NULL,
    resume_state TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '',
    correction TEXT NOT NULL DEFAULT '',
    delivery TEXT NOT NULL DEFAULT '',
    tracking_no TEXT NOT NULL DEFAULT '',
    promised_days BIGINT NOT NULL,
    legal_days BIGINT NOT NULL,
    submitted_at BIGINT NOT NULL,
    accepted_on TEXT NOT NULL DEFAULT '',
    due_on TEXT NOT NULL,
    legal_due_on TEXT NOT NULL,
    yellow_on TEXT NOT NULL,
    paused_on TEXT NOT NULL DEFAULT '',
    concluded_at BIGINT,
    updated_at BIGINT NOT NULL,
    revision BIGINT NOT NULL DEFAULT 1,
    -- Derived from state on every write, so the workbench lists read one
    -- index range in deadline order: a step is due from staff (待办), and
    -- the time limit is counting (lights, 超期).
    todo BIGINT NOT NULL DEFAULT 0,
    running BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX cases_todo ON cases(todo, due_on, yellow_on);
-- yellow_on in the indexes: the light filters are answered from the index
-- alone, and lists sort by (due_on, yellow_on, id), the indexes' own order.
CREATE INDEX cases_running ON cases(running, due_on, yellow_on);
CREATE INDEX cases_unit_todo ON cases(department_id, todo, due_on, yellow_on);
CREATE INDEX cases_unit_running ON cases(department_id, running, due_on, yellow_on);
CREATE INDEX cases_updated ON cases(updated_at);
CREATE INDEX cases_applicant ON cases(applicant_name);
CREATE INDEX cases_citizen ON cases(citizen_id, submitted_at);

-- Every transition: who, when, why.
CREATE TABLE case_events (
    id {{id}},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX case_events_case ON case_events(case_id, id);
CREATE INDEX case_events_actor ON case_events(actor, case_id);

-- An application being filled in: one per person and item, resumable.
CREATE TABLE case_drafts (
    id {{id}},
    citizen_id BIGINT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    service_code TEXT NOT NULL,
    form_version BIGINT NOT NULL,
    form_schema TEXT NOT NULL,
    answers TEXT NOT NULL,
    page BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    UNIQUE (citizen_id, service_code)
);

-- Uploaded materials and result documents. The body is in the file store
-- under storage_key; a replaced material stays for the record.
CREATE TABLE case_files (
    id {{id}},
    case_id BIGINT REFERENCES cases(id),
    draft_id BIGINT REFERENCES case_drafts(id) ON DELETE CASCADE,
    field_key TEXT NOT NULL,
    material TEXT NOT NULL,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    replaced BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX case_files_case ON case_files(case_id);
CREATE INDEX case_files_draft ON case_files(draft_id);

-- In-site messages (站内消息) to citizens.
CREATE TABLE messages (
    id {{id}},
    citizen_id BIGINT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    case_number TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX messages_citizen ON messages(citizen_id, id);

-- Notification wording staff can edit; absent rows use the built-in text.
CREATE TABLE notify_templates (
    event TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Background jobs (SMS, reminders, escalations). A job is claimed by
-- pushing locked_until forward; `dedupe` keeps a job from being queued twice.
CREATE TABLE jobs (
    id {{id}},
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    done_at BIGINT,
    last_error TEXT NOT NULL DEFAULT '',
    dedupe TEXT UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs(done_at, run_at);

-- Who may edit notification wording: system and department administrators.
INSERT INTO role_permissions (role_id, permission) SELECT id, 'cases.configure' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'cases.configure' FROM roles WHERE code = 'dept_admin';
