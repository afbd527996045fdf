-- 政务公开: sites (the city portal, district sites, the police bureau),
-- each owned by a unit of the org tree whose editors and reviewers run it.
CREATE TABLE content_sites (
    id {{id}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES departments(id),
    -- review stages before publishing: 1 (终审), 2 (初审, 终审) or 3
    review_stages BIGINT NOT NULL DEFAULT 2,
    position BIGINT NOT NULL DEFAULT 0
);

-- 栏目. `kind` is the content type the column holds; `stale_days` is how
-- long it may go without a new article before inspection counts it as not
-- updated (news 14, notices and policies 180).
CREATE TABLE content_channels (
    id {{id}},
    site_id BIGINT NOT NULL REFERENCES content_sites(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    stale_days BIGINT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    UNIQUE (site_id, code)
);

-- An article: its working copy (what editors change) and, once approved,
-- the version citizens read (`live_version`). It is visible from
-- `live_from` until `live_until` (scheduled publish and unpublish). The
-- home site's editors and reviewers own it; it may appear in channels of
-- other sites too (一键多渠道发布). `fields` holds the type's own fields
-- as JSON (a 便民公告's start and end, …).
CREATE TABLE articles (
    id {{id}},
    site_id BIGINT NOT NULL REFERENCES content_sites(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    fields TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL,
    stage BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    author TEXT NOT NULL,
    publish_at BIGINT,
    unpublish_at BIGINT,
    live_version BIGINT,
    live_from BIGINT,
    live_until BIGINT,
    first_published_at BIGINT,
    withdrawn_reason TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    revision BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX articles_site_state ON articles (site_id, state, updated_at);
CREATE INDEX articles_live ON articles (live_from);

CREATE TABLE article_channels (
    article_id BIGINT NOT NULL REFERENCES articles(id),
    channel_id BIGINT NOT NULL REFERENCES content_channels(id),
    PRIMARY KEY (article_id, channel_id)
);
CREATE INDEX article_channels_channel ON article_channels (channel_id);

-- Every saved version, for the diff, rollback and what citizens read.
CREATE TABLE article_versions (
    id {{id}},
    article_id BIGINT NOT NULL REFERENCES articles(id),
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    source TEXT NOT NULL,
    fields TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at BIGINT NOT NULL,
    UNIQUE (article_id, version)
);

-- The history: who did what at which stage, with comments and reasons.
CREATE TABLE article_events (
    id {{id}},
    article_id BIGINT NOT NULL REFERENCES articles(id),
    action TEXT NOT NULL,
    stage BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL,
    actor TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    at BIGINT NOT NULL
);
CREATE INDEX article_events_article ON article_events (article_id, id);
