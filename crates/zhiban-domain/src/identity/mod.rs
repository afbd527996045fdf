//! Identity: staff accounts and sessions, the permissions roles are built
//! from, data scope over the org tree, second factors, and the 等保 level-3
//! security policy they all follow.

pub mod citizen;
pub mod company;
mod counter_check;
pub mod ids;
mod lockout;
pub mod oidc;
pub mod org;
pub mod passkey;
pub mod qr_login;
pub mod roles;
pub mod scope;
pub mod sms;
pub mod staff;
pub mod staff_keys;
pub mod totp;

pub use scope::{Scope, scope_of};

use serde::{Deserialize, Serialize};

use crate::catalog::enums::vocabulary;

vocabulary!(
    /// A fine permission. Roles are sets of these; every staff route names
    /// the one it needs.
    Perm {
        CatalogView => "catalog.view", "查看事项目录";
        CatalogEdit => "catalog.edit", "编辑事项";
        CatalogPublish => "catalog.publish", "发布与下线事项";
        CatalogTransfer => "catalog.transfer", "导入导出事项";
        SearchManage => "search.manage", "管理搜索词";
        StaffManage => "staff.manage", "管理人员账号";
        RolesManage => "roles.manage", "管理角色";
        OidcClients => "oidc.clients", "管理接入应用";
        AuditView => "audit.view", "查阅审计日志";
        CitizensView => "citizens.view", "查看群众个人信息";
        SmsOutbox => "sms.outbox", "查看短信发件箱";
        CasesHandle => "cases.handle", "办理办件";
        CasesConfigure => "cases.configure", "配置办件通知";
        LicensesManage => "licenses.manage", "签发与吊销电子证照";
        ContentEdit => "content.edit", "编辑政务公开内容";
        ContentReview => "content.review", "审核政务公开内容";
        CallsAnswer => "calls.answer", "接听热线";
        AssistantManage => "assistant.manage", "维护智能客服知识库";
        RequestsDispatch => "requests.dispatch", "受理派发诉求";
        RequestsHandle => "requests.handle", "办理诉求";
        TipsHandle => "tips.handle", "核查举报线索";
        InterviewsHost => "interviews.host", "主持在线访谈";
        ConsultationsManage => "consultations.manage", "管理征集调查";
        RatingsHandle => "ratings.handle", "处理差评整改";
        PaymentsFinance => "payments.finance", "收费财务管理";
        OpinionMonitor => "opinion.monitor", "舆情监测";
    }
);

impl Perm {
    /// Changes how the portal works for others (accounts, roles,
    /// applications, settings, publishing): what an auditor must not hold.
    pub fn administers(self) -> bool {
        matches!(
            self,
            Perm::StaffManage
                | Perm::RolesManage
                | Perm::OidcClients
                | Perm::CasesConfigure
                | Perm::SearchManage
                | Perm::CatalogPublish
                | Perm::CatalogTransfer
                | Perm::LicensesManage
        )
    }
}

/// 三员分立: one account that reads the audit log and also administers
/// breaks the separation of duties (the staff list warns about it).
pub fn breaks_separation(perms: &std::collections::BTreeSet<Perm>) -> bool {
    perms.contains(&Perm::AuditView) && perms.iter().any(|p| p.administers())
}

/// The 等保 2.0 level-3 defaults; every one is a setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityPolicy {
    /// Failed sign-ins allowed inside the lock window before the account locks.
    pub max_failures: i64,
    pub lock_minutes: i64,
    pub idle_timeout_minutes: i64,
    /// Hours a session lasts at most, however busy (then sign in again).
    pub session_max_hours: i64,
    /// Days a staff password stays valid; 0 turns the rule off.
    pub password_max_age_days: i64,
    /// Staff need a second factor (TOTP) after the password.
    pub staff_second_factor: bool,
    /// Let one staff account hold several sessions at once. Off by default:
    /// a new sign-in ends the others. Can also be allowed per account.
    pub staff_concurrent_sessions: bool,
    /// Sign-in attempts (password or code) one client address may make per
    /// minute, on top of the per-account lock-out.
    pub sign_in_per_minute: u32,
    /// Public license checks and shared-link opens one client address may
    /// make per minute: generous for a counter checking licenses, too few
    /// to walk the number space.
    pub lookups_per_minute: u32,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            max_failures: 5,
            lock_minutes: 30,
            idle_timeout_minutes: 30,
            session_max_hours: 12,
            password_max_age_days: 90,
            staff_second_factor: true,
            staff_concurrent_sessions: false,
            sign_in_per_minute: 10,
            lookups_per_minute: 60,
        }
    }
}

impl SecurityPolicy {
    pub fn idle_secs(&self) -> i64 {
        self.idle_timeout_minutes.max(1) * 60
    }
    /// A session created at `created_at` has ended by `now`, however busy.
    pub fn outlived(&self, created_at: i64, now: i64) -> bool {
        now >= created_at + self.session_max_hours.max(1) * 3600
    }
    pub fn lock_secs(&self) -> i64 {
        self.lock_minutes.max(1) * 60
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_codes_round_trip() {
        for p in Perm::ALL {
            assert_eq!(Perm::from_slug(p.slug()), Some(*p));
        }
        assert_eq!(Perm::from_slug("catalog.delete_everything"), None);
    }
}
