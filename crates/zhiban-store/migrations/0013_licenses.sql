-- Electronic licenses (电子证照, GB/T 36901–36905). A license type lists its
-- fields; a license is issued by a department, signed with that
-- department's key (SM2 under the 国密 suite) and verified by anyone through
-- its number or QR code. Holder data is field-encrypted; lookups by 身份证号
-- use its blind index.
CREATE TABLE license_types (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    holder_kind TEXT NOT NULL DEFAULT 'person',
    fields TEXT NOT NULL,
    valid_years BIGINT NOT NULL DEFAULT 0,
    issuer_code TEXT NOT NULL DEFAULT '',
    renewal_service TEXT NOT NULL DEFAULT '',
    produced_by TEXT NOT NULL DEFAULT '',
    sort BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE licenses (
    id {{id}},
    number TEXT NOT NULL UNIQUE,
    type_code TEXT NOT NULL REFERENCES license_types(code),
    holder_name TEXT NOT NULL,
    holder_id_number TEXT NOT NULL,
    holder_bidx TEXT NOT NULL,
    citizen_id BIGINT REFERENCES citizens(id) ON DELETE SET NULL,
    fields TEXT NOT NULL,
    issuer_id BIGINT NOT NULL REFERENCES departments(id),
    issued_on TEXT NOT NULL,
    expires_on TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'valid',
    revoked_at BIGINT,
    revoke_reason TEXT NOT NULL DEFAULT '',
    signing_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    source TEXT NOT NULL,
    reminded BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX licenses_holder ON licenses(holder_bidx, type_code);
CREATE INDEX licenses_citizen ON licenses(citizen_id);
CREATE INDEX licenses_expiry ON licenses(state, reminded, expires_on);

-- Time-limited verification links the holder shares (only a hash kept).
CREATE TABLE license_shares (
    token_hash TEXT PRIMARY KEY,
    license_id BIGINT NOT NULL REFERENCES licenses(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0,
    views BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX license_shares_license ON license_shares(license_id);

-- Every use of a license: the holder's authorisation for an application
-- (免证办), a staff view of it in a case, a shared-link view. The holder
-- sees this list in the wallet.
CREATE TABLE license_uses (
    id {{id}},
    license_id BIGINT NOT NULL REFERENCES licenses(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    draft_id BIGINT,
    case_number TEXT NOT NULL DEFAULT '',
    field_key TEXT NOT NULL DEFAULT '',
    material TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX license_uses_license ON license_uses(license_id, at);
CREATE INDEX license_uses_draft ON license_uses(draft_id);
CREATE INDEX license_uses_case ON license_uses(case_number);

INSERT INTO role_permissions (role_id, permission) SELECT id, 'licenses.manage' FROM roles WHERE code = 'system_admin';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'licenses.manage' FROM roles WHERE code = 'dept_admin';

-- The license types a city portal starts with (演示数据 adds none of its own:
-- these are the national types).
INSERT INTO license_types (code, name, holder_kind, fields, valid_years, issuer_code, renewal_service, produced_by, sort) VALUES
 ('id_card', '居民身份证', 'person', '[{"key":"gender","label":"性别"},{"key":"ethnicity","label":"民族"},{"key":"birth","label":"出生"},{"key":"address","label":"住址"}]', 20, '', '', '', 1),
 ('driving_licence', '机动车驾驶证', 'person', '[{"key":"class","label":"准驾车型"},{"key":"first_issue","label":"初次领证日期"}]', 6, '', '', '', 2),
 ('vehicle_licence', '机动车行驶证', 'person', '[{"key":"plate","label":"号牌号码"},{"key":"vehicle_type","label":"车辆类型"},{"key":"vin","label":"车辆识别代号"}]', 0, '', '', '', 3),
 ('household', '居民户口簿', 'person', '[{"key":"household_type","label":"户别"},{"key":"address","label":"住址"},{"key":"relation","label":"与户主关系"}]', 0, '', '', '', 4),
 ('business_licence', '营业执照', 'company', '[{"key":"uscc","label":"统一社会信用代码"},{"key":"company_type","label":"类型"},{"key":"legal_rep","label":"法定代表人"},{"key":"scope","label":"经营范围"}]', 0, '', '', '', 5),
 ('marriage', '结婚证', 'person', '[{"key":"spouse","label":"配偶姓名"},{"key":"registered_on","label":"登记日期"}]', 0, '', '', '', 6),
 ('no_crime', '无犯罪记录证明', 'person', '[{"key":"purpose","label":"用途"}]', 0, '', '', '', 7),
 ('social_security', '社会保障卡', 'person', '[{"key":"card_no","label":"社会保障号码"},{"key":"bank","label":"金融账户开户行"}]', 10, '', '', '', 8);
