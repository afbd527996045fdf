//! Request logging: what of a request may be written to the log.

/// The path as it may be logged: a shared link's token is a secret.
pub fn log_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/licenses/shared/") {
        Some(rest) if !rest.is_empty() => "/licenses/shared/…".into(),
        _ => path.into(),
    }
}
