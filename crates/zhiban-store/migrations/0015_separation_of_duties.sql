-- 三员分立 (separation of duties, 等保 level 3): the system administrator
-- no longer reads the audit log; the security auditor (安全审计员) only
-- reads it. Administrators appoint an auditor; an account that holds both
-- is flagged on the staff list.
DELETE FROM role_permissions
 WHERE permission = 'audit.view'
   AND role_id IN (SELECT id FROM roles WHERE code = 'system_admin');
UPDATE roles SET description = '管理机构、人员、角色与全部业务配置；不查阅审计日志（三员分立：审计由安全审计员负责）'
 WHERE code = 'system_admin';

-- Which departments may issue each license type. A listed department
-- covers the units below it (the city public security bureau covers its
-- 户政 and 交巡警 corps). Set at city level at /admin/licenses/types; a
-- type without any issues nothing, and a license whose issuer is not
-- allowed for its type verifies as invalid.
CREATE TABLE license_type_issuers (
    type_code TEXT NOT NULL REFERENCES license_types(code) ON DELETE CASCADE,
    department_id BIGINT NOT NULL REFERENCES departments(id) ON DELETE CASCADE,
    PRIMARY KEY (type_code, department_id)
);
