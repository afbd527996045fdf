//! Translations are compiled in by rust-i18n (rebuild when they change), and
//! the stylesheet and script are minified here, so the binary embeds and
//! serves the small files while `assets/` keeps the readable ones.

use std::path::Path;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-changed=locales");
    println!("cargo:rerun-if-changed=assets");
    let Some(out) = env::var_os("OUT_DIR") else {
        panic!("cargo sets OUT_DIR for build scripts");
    };
    let out = Path::new(&out).join("assets");
    if let Err(e) = minify_dir(Path::new("assets"), &out) {
        panic!("minifying assets into {}: {e}", out.display());
    }
}

/// Copies `from` into `to`, minifying `.css` and `.js` files on the way.
fn minify_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            minify_dir(&path, &target)?;
            continue;
        }
        let small = match path.extension().and_then(|e| e.to_str()) {
            Some("css") => {
                let text = fs::read_to_string(&path)?;
                match minifier::css::minify(&text) {
                    Ok(m) => m.to_string(),
                    Err(e) => panic!("{}: {e}", path.display()),
                }
            }
            Some("js") => minifier::js::minify(&fs::read_to_string(&path)?).to_string(),
            _ => {
                fs::copy(&path, &target)?;
                continue;
            }
        };
        fs::write(&target, small)?;
    }
    Ok(())
}
