-- 一件事一次办: bundles staff define from catalog items. The questions
-- (JSON: key, label, options) decide which items apply; the items (JSON:
-- code, stage, condition) run stage by stage, items of one stage in parallel.
CREATE TABLE bundles (
    id {{id}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    audience TEXT NOT NULL,
    questions TEXT NOT NULL,
    items TEXT NOT NULL,
    status TEXT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One filed bundle: the parent of one case per applicable item. Its state
-- is read from the children; finished_at is set when the last one finishes.
CREATE TABLE bundle_cases (
    id {{id}},
    number TEXT NOT NULL UNIQUE,
    bundle_code TEXT NOT NULL,
    bundle_name TEXT NOT NULL,
    citizen_id BIGINT REFERENCES citizens(id) ON DELETE SET NULL,
    submitted_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX bundle_cases_citizen ON bundle_cases(citizen_id, submitted_at);

ALTER TABLE cases ADD COLUMN bundle_case_id BIGINT REFERENCES bundle_cases(id);
ALTER TABLE cases ADD COLUMN bundle_stage BIGINT NOT NULL DEFAULT 0;
CREATE INDEX cases_bundle ON cases(bundle_case_id);
