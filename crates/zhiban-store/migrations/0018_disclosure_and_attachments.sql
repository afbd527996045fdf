-- 依申请公开 (政府信息公开条例 第三十三条): a disclosure request is a case of
-- an item of type `disclosure`. Its answer clock runs from receipt, it may
-- be extended once by up to 20 working days, and its answer has a type.
ALTER TABLE cases ADD COLUMN procedure TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN answer TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN extended_days BIGINT NOT NULL DEFAULT 0;

-- Files of an article: attachments (PDF, OFD, DOCX, XLSX … with their
-- sizes), images with their alt text (a 通缉令's photo, a gallery's
-- pictures) and videos with their WebVTT captions (`parent_id` is the
-- video a captions file belongs to). Bodies live in the file store.
-- A file belongs to the versions from `added_in` until `removed_in`
-- (0: still there), so citizens see exactly the files of the approved
-- version while editors change the working copy.
CREATE TABLE article_files (
    id {{id}},
    article_id BIGINT NOT NULL REFERENCES articles(id),
    role TEXT NOT NULL,
    parent_id BIGINT,
    added_in BIGINT NOT NULL,
    removed_in BIGINT NOT NULL DEFAULT 0,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    alt TEXT NOT NULL DEFAULT '',
    position BIGINT NOT NULL DEFAULT 0,
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL
);
CREATE INDEX article_files_article ON article_files (article_id, position);

-- 专题 (反诈, 禁毒, 交通安全) are channels of kind `topic` that gather
-- articles of any kind; a channel may say what it is about.
ALTER TABLE content_channels ADD COLUMN lead TEXT NOT NULL DEFAULT '';
