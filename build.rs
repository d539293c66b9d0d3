//! Names the commit in `symbolon --version`: `SYMBOLON_COMMIT` when the build sets it
//! (scripts/build-static does, from git), otherwise `git rev-parse HEAD` when there is a git
//! checkout, otherwise "unknown commit". When the binary's own sources (src/, build.rs,
//! Cargo.toml, Cargo.lock) differ from that commit, it is marked "-modified".

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=SYMBOLON_COMMIT");
    let commit = match std::env::var("SYMBOLON_COMMIT") {
        Ok(c) if !c.is_empty() => c,
        _ => {
            // Run again when HEAD moves, the index changes, or any source of the binary does.
            for path in [".git/HEAD", ".git/index", "src", "build.rs", "Cargo.toml", "Cargo.lock"] {
                if std::path::Path::new(path).exists() {
                    println!("cargo:rerun-if-changed={path}");
                }
            }
            match git(&["rev-parse", "HEAD"]) {
                Some(head) if !head.is_empty() => {
                    let modified = git(&["status", "--porcelain", "--", "src", "build.rs", "Cargo.toml", "Cargo.lock"])
                        .is_some_and(|s| !s.is_empty());
                    if modified { format!("{head}-modified") } else { head }
                }
                _ => "unknown commit".to_string(),
            }
        }
    };
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!("cargo:rustc-env=SYMBOLON_VERSION={version} (commit {commit})");
}
