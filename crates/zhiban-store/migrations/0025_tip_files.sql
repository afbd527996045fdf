-- Photos and PDFs sent with a police tip, encrypted like the tip itself
-- (name and body: pii::ctx::TIP_FILE_NAME, TIP_FILE_BODY, rotated with the
-- other personal data). A file arrives before the tip is filed: until
-- then `staged_by` holds a hash of the sending browser's form token (no
-- account, no address) and `tip_id` is empty.
CREATE TABLE tip_files (
    id {{id}},
    tip_id BIGINT REFERENCES tips(id),
    staged_by TEXT,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX tip_files_of ON tip_files(tip_id, id);
CREATE INDEX tip_files_staged ON tip_files(staged_by);
