//! Names the commit in `symbolon --version`: `SYMBOLON_COMMIT` when set (for builds without
//! git, such as a packager's), otherwise `git rev-parse HEAD` of this checkout (not of a git
//! repository the source happens to sit in), otherwise "unknown commit". When the binary's own
//! sources differ from that commit, it is marked "-modified".

use std::path::Path;
use std::process::Command;

/// What goes into the binary: the Rust sources, the font, the build files, and the static
/// build's script and patch.
const SOURCES: &[&str] =
    &["src", "assets", "build.rs", "Cargo.toml", "Cargo.lock", "scripts/build-static", "scripts/lib"];

fn git(args: &[&str]) -> Option<String> {
    // --no-optional-locks: `status` must not rewrite the index this script watches.
    let out = Command::new("git").arg("--no-optional-locks").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn watch(path: &str) {
    if Path::new(path).exists() {
        println!("cargo:rerun-if-changed={path}");
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=SYMBOLON_COMMIT");
    let commit = match std::env::var("SYMBOLON_COMMIT") {
        Ok(c) if !c.is_empty() => c,
        _ => commit_of_this_checkout().unwrap_or_else(|| "unknown commit".to_string()),
    };
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!("cargo:rustc-env=SYMBOLON_VERSION={version} (commit {commit})");
}

fn commit_of_this_checkout() -> Option<String> {
    let here = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let top = git(&["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(&top).ok()? != std::fs::canonicalize(&here).ok()? {
        return None;
    }
    // Run again when HEAD moves (its file, the branch it names, packed refs), the index changes,
    // or any source does.
    for what in ["HEAD", "index", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", what]) {
            watch(&path);
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(path) = git(&["rev-parse", "--git-path", &branch])
    {
        watch(&path);
    }
    SOURCES.iter().for_each(|s| watch(s));
    let head = git(&["rev-parse", "HEAD"]).filter(|h| !h.is_empty())?;
    let mut args = vec!["status", "--porcelain", "--"];
    args.extend(SOURCES);
    let modified = git(&args).is_none_or(|s| !s.is_empty());
    Some(if modified { format!("{head}-modified") } else { head })
}
