//! Handlers, in folders named after the site's areas: `public` (anyone),
//! `citizen` (signed-in people: `/login`, `/account`, `/apply`, `/my/…`),
//! `staff` (`/admin/…`), `oidc` (the OpenID Connect provider) and `api`
//! (other systems). A page's handler is found from its URL; templates are
//! in the same folders under `templates/`. A handler file never imports
//! another: what several share lives in `extract`, `view` or `middleware`.

pub mod api;
pub mod citizen;
pub mod oidc;
pub mod open311;
pub mod public;
pub mod staff;

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("handlers folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The code of a file up to its test module.
    fn code_of(path: &Path) -> String {
        let text = std::fs::read_to_string(path).expect("read");
        match text.find("#[cfg(test)]") {
            Some(i) => text[..i].to_string(),
            None => text,
        }
    }

    /// What several handlers share lives in `extract`, `view` or
    /// `middleware`: a handler file that reaches into another (through
    /// `crate::handlers` or `super::`) is refused here, in CI.
    #[test]
    fn no_handler_file_imports_another() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/handlers");
        let mut files = Vec::new();
        rust_files(&root, &mut files);
        assert!(files.len() > 25, "the walk finds the handler files");
        let mut found = Vec::new();
        for path in &files {
            let code = code_of(path);
            let is_mod = path.file_name().is_some_and(|n| n == "mod.rs");
            for (n, line) in code.lines().enumerate() {
                let line = line.trim();
                let declares = is_mod && (line.starts_with("pub mod ") || line.starts_with("mod "));
                if !declares && (line.contains("crate::handlers") || line.contains("super::")) {
                    found.push(format!("{}:{}: {line}", path.display(), n + 1));
                }
            }
        }
        assert!(
            found.is_empty(),
            "handlers importing handlers:\n{}",
            found.join("\n")
        );
    }

    /// Folder modules only declare their files.
    #[test]
    fn handler_folders_hold_no_code_of_their_own() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/handlers");
        let mut files = Vec::new();
        rust_files(&root, &mut files);
        for path in files.iter().filter(|p| p.ends_with("mod.rs")) {
            for line in code_of(path).lines().map(str::trim) {
                assert!(
                    line.is_empty() || line.starts_with("//") || line.starts_with("pub mod "),
                    "{}: {line}",
                    path.display()
                );
            }
        }
    }
}
