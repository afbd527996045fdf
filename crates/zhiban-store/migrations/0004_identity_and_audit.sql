-- Staff identity under 等保 level 3: a unit in the org tree (departments),
-- roles built from permissions, a second factor, password age.
ALTER TABLE staff_users ADD COLUMN unit_id BIGINT REFERENCES departments(id);
ALTER TABLE staff_users ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff_users ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0;
-- Base32 TOTP secret once enrolment is confirmed; the last accepted time
-- step refuses a replayed code.
ALTER TABLE staff_users ADD COLUMN totp_secret TEXT;
ALTER TABLE staff_users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff_users ADD COLUMN allow_concurrent BIGINT NOT NULL DEFAULT 0;

-- A session is first 'password' (may only finish the second factor), then
-- 'full'. Sessions from before this migration must sign in again.
DELETE FROM staff_sessions;
ALTER TABLE staff_sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'password';
ALTER TABLE staff_sessions ADD COLUMN enrol_secret TEXT;
ALTER TABLE staff_sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE staff_sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';

CREATE TABLE roles (
    id {{id}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    builtin BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE role_permissions (
    role_id BIGINT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE staff_roles (
    user_id BIGINT NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);

-- Append-only audit log. Each record carries the SM3 hash of the one before,
-- so `zhiban audit verify` finds any edited or deleted record; audit_head
-- holds the newest sequence number and hash, so a deleted tail shows too.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    ip TEXT NOT NULL,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, 'genesis');

-- Built-in roles (permission codes are zhiban_domain::identity::Perm).
INSERT INTO roles (code, name, description, builtin) VALUES ('system_admin', '系统管理员', '管理机构、人员、角色与全部业务配置（生产环境建议与安全管理员、审计员分设）', 1);
INSERT INTO role_permissions (role_id, permission) SELECT id, 'catalog.view' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'catalog.edit' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'catalog.publish' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'catalog.transfer' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'search.manage' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'staff.manage' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'roles.manage' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'oidc.clients' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'audit.view' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'citizens.view' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'sms.outbox' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'cases.handle' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'content.edit' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'content.review' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'calls.answer' FROM roles WHERE code = 'system_admin';
INSERT INTO roles (code, name, description, builtin) VALUES ('security_admin', '安全管理员', '管理人员账号、角色授权与第三方应用接入', 1);
INSERT INTO role_permissions (role_id, permission) SELECT id, 'staff.manage' FROM roles WHERE code = 'security_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'roles.manage' FROM roles WHERE code = 'security_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'oidc.clients' FROM roles WHERE code = 'security_admin';
INSERT INTO roles (code, name, description, builtin) VALUES ('auditor', '安全审计员', '查阅与核验审计日志，不能修改任何业务数据', 1);
INSERT INTO role_permissions (role_id, permission) SELECT id, 'audit.view' FROM roles WHERE code = 'auditor';
INSERT INTO roles (code, name, description, builtin) VALUES ('dept_admin', '部门管理员', '维护本部门事项目录、搜索词与本部门人员', 1);
INSERT INTO role_permissions (role_id, permission) SELECT id, 'catalog.view' FROM roles WHERE code = 'dept_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'catalog.edit' FROM roles WHERE code = 'dept_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'catalog.publish' FROM roles WHERE code = 'dept_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'catalog.transfer' FROM roles WHERE code = 'dept_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'search.manage' FROM roles WHERE code = 'dept_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'staff.manage' FROM roles WHERE code = 'dept_admin';
INSERT INTO roles (code, name, description, builtin) VALUES ('catalog_editor', '事项编辑', '编辑本部门事项草稿，提交发布前需部门管理员审核', 1);
INSERT INTO role_permissions (role_id, permission) SELECT id, 'catalog.view' FROM roles WHERE code = 'catalog_editor';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'catalog.edit' FROM roles WHERE code = 'catalog_editor';
INSERT INTO roles (code, name, description, builtin) VALUES ('case_handler', '办件人员', '受理、审查和办结本单位范围内的办件', 1);
INSERT INTO role_permissions (role_id, permission) SELECT id, 'catalog.view' FROM roles WHERE code = 'case_handler';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'cases.handle' FROM roles WHERE code = 'case_handler';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'citizens.view' FROM roles WHERE code = 'case_handler';
INSERT INTO roles (code, name, description, builtin) VALUES ('content_editor', '内容编辑', '撰写政务公开栏目稿件', 1);
INSERT INTO role_permissions (role_id, permission) SELECT id, 'content.edit' FROM roles WHERE code = 'content_editor';
INSERT INTO roles (code, name, description, builtin) VALUES ('reviewer', '内容审核', '审核发布政务公开稿件', 1);
INSERT INTO role_permissions (role_id, permission) SELECT id, 'content.edit' FROM roles WHERE code = 'reviewer';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'content.review' FROM roles WHERE code = 'reviewer';
INSERT INTO roles (code, name, description, builtin) VALUES ('call_agent', '热线坐席', '接听 12345 热线与智能客服转人工会话', 1);
INSERT INTO role_permissions (role_id, permission) SELECT id, 'catalog.view' FROM roles WHERE code = 'call_agent';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'calls.answer' FROM roles WHERE code = 'call_agent';
