-- 服务找人 / 为您推荐: rules staff edit (not code) that match a person's
-- licenses, age, companies and past cases to a service, each with the
-- reason shown. kind: license_expiring, age, company_agent, case_years;
-- params: JSON for the kind. A person may turn recommendations off.
CREATE TABLE recommend_rules (
    id {{id}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    service_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

ALTER TABLE citizens ADD COLUMN recommend_off BIGINT NOT NULL DEFAULT 0;
