-- 线索举报: police tips, anonymous or real-name. The content and every
-- message are encrypted (pii::ctx::TIP_CONTENT, TIP_MESSAGE); the
-- reporter follows up with the receipt code and a secret (only its argon2
-- hash is kept). No client address or user agent is stored.
CREATE TABLE tips (
    id {{id}},
    receipt TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    category TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES departments(id),
    citizen_id BIGINT REFERENCES citizens(id) ON DELETE SET NULL,
    content TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX tips_unit ON tips(unit_id, state, created_at);

CREATE TABLE tip_messages (
    id {{id}},
    tip_id BIGINT NOT NULL REFERENCES tips(id),
    -- 1: the unit asks or answers; 0: the reporter.
    from_unit BIGINT NOT NULL,
    body TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX tip_messages_tip ON tip_messages(tip_id, id);

-- 线索核查员: reads and answers the tips sent to their own unit. No other
-- role holds this, the system administrator included.
INSERT INTO roles (code, name, description, builtin) VALUES ('tip_handler', '线索核查员', '查阅并核查发给本单位的举报线索（系统管理员无此权限）', 1);
INSERT INTO role_permissions (role_id, permission) SELECT id, 'tips.handle' FROM roles WHERE code = 'tip_handler';
