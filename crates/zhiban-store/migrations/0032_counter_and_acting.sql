-- 窗口收件: a clerk fills an application for a person at the counter. The
-- draft belongs to the clerk; the person's name, 身份证号 and phone are
-- sealed, with a blind index of the 身份证号 (the same one citizens carry)
-- so the filed case reaches the person's 我的办件 once their account is
-- verified under that number.
CREATE TABLE counter_drafts (
    id {{id}},
    staff_username TEXT NOT NULL,
    service_code TEXT NOT NULL,
    form_version BIGINT NOT NULL,
    form_schema TEXT NOT NULL,
    answers TEXT NOT NULL,
    applicant TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX counter_drafts_staff ON counter_drafts(staff_username, updated_at);
ALTER TABLE case_files ADD COLUMN counter_draft_id BIGINT REFERENCES counter_drafts(id) ON DELETE CASCADE;
CREATE INDEX case_files_counter_draft ON case_files(counter_draft_id);

-- How a case came in (online, counter) and who received it at a counter;
-- a counter case keeps the 身份证号 the clerk checked (sealed, indexed).
ALTER TABLE cases ADD COLUMN channel TEXT NOT NULL DEFAULT 'online';
ALTER TABLE cases ADD COLUMN received_by TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN applicant_id_number TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN applicant_id_bidx TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_applicant_id ON cases(applicant_id_bidx, citizen_id);

-- 以企业身份办事: a case filed by an agent acting for a company belongs to
-- the company; the session remembers which company its holder acts for.
ALTER TABLE cases ADD COLUMN company_id BIGINT REFERENCES companies(id);
CREATE INDEX cases_company ON cases(company_id, submitted_at);
ALTER TABLE citizen_sessions ADD COLUMN acting_company_id BIGINT;
