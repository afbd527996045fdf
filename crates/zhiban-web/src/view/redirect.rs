//! Where a form may send the browser next: only paths on this site.

use crate::error::AppError;
use crate::view::ctx::PageCtx;
use crate::view::render;
use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};

/// `next` when it is a path on this site, the one check every redirect
/// target taken from a request passes (`next=`, `to=`): one leading `/`
/// not followed by another `/` or a `\\`, and no backslash, whitespace or
/// control character anywhere (browsers drop a TAB or newline and would
/// follow `/\t/host` to another site). The result is also resolved as a
/// URL, which must stay on this site.
pub fn local_path(next: &str) -> Option<&str> {
    let plain = next.starts_with('/')
        && !next.starts_with("//")
        && !next
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    if !plain {
        return None;
    }
    let base = url::Url::parse("https://zhiban.invalid/").ok()?;
    let joined = base.join(next).ok()?;
    (joined.origin() == base.origin()).then_some(next)
}

/// Where a citizen goes next: a local path outside the staff portal, else
/// the account centre.
pub fn safe_next(next: &str) -> String {
    local_path(next)
        .filter(|p| !p.starts_with("/admin"))
        .unwrap_or("/account")
        .to_string()
}

#[derive(Template)]
#[template(path = "citizen/auth/continue.html")]
pub struct ContinuePage {
    pub ctx: PageCtx,
    pub next: String,
}

/// After signing in: straight on, except back to another application
/// (`/oidc/…`), where a page with a link breaks the form-submission chain
/// (the CSP `form-action` rule would block a redirect chain to another site).
pub fn continue_to(ctx: &PageCtx, next: &str) -> Result<Response, AppError> {
    if next.starts_with("/oidc/") {
        render(&ContinuePage {
            ctx: ctx.clone(),
            next: next.to_string(),
        })
    } else {
        Ok(Redirect::to(next).into_response())
    }
}

/// Where a staff member goes next: a staff page other than signing in,
/// else the staff home.
pub fn safe_admin_next(next: &str) -> String {
    local_path(next)
        .filter(|p| {
            (*p == "/admin" || p.starts_with("/admin/") || p.starts_with("/admin?"))
                && !p.starts_with("/admin/login")
        })
        .unwrap_or("/admin")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_redirect_targets() {
        for ok in [
            "/",
            "/services?page=2",
            "/my/cases/ZB1#top",
            "/search?q=%E8%BA%AB",
        ] {
            assert_eq!(local_path(ok), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "services",
            "//evil.example/",
            "/\\evil.example",
            "/\t/evil.example/",
            "/\n/evil.example",
            "/ /evil.example",
            "\t//evil.example",
            "https://evil.example/",
            "/\u{3000}/evil.example",
            "javascript:alert(1)",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn citizens_and_staff_each_stay_on_their_side() {
        assert_eq!(safe_next("/admin/staff"), "/account");
        assert_eq!(safe_next("/my/cases"), "/my/cases");
        assert_eq!(safe_admin_next("/administrator"), "/admin");
        assert_eq!(safe_admin_next("/admin/login?next=/x"), "/admin");
        assert_eq!(
            safe_admin_next("/admin/cases?tab=done"),
            "/admin/cases?tab=done"
        );
        assert_eq!(safe_admin_next("/admin/\t/evil"), "/admin");
    }
}
