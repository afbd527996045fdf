-- Photos and PDFs sent with a request (at most five). The bodies live in
-- the file store; they are shown to the writer and to the staff who may
-- see the request, never on the public 公开选登 pages.
CREATE TABLE request_files (
    id {{id}},
    request_id BIGINT NOT NULL REFERENCES requests(id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    storage_key TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX request_files_of ON request_files(request_id, id);
