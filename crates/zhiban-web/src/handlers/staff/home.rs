//! The staff home (`/admin`): the first area this person's roles open.

use crate::extract::Staff;
use axum::response::Redirect;
use zhiban_domain::identity::Perm;

/// The staff home: the first area this person's roles open.
pub async fn index(staff_user: Staff) -> Redirect {
    let s = &staff_user.session;
    let to = if s.can(Perm::CatalogView) {
        "/admin/services"
    } else if s.can(Perm::StaffManage) {
        "/admin/staff"
    } else if s.can(Perm::AuditView) {
        "/admin/audit"
    } else if s.can(Perm::LicensesManage) {
        "/admin/licenses"
    } else {
        "/admin/account"
    };
    Redirect::to(to)
}
