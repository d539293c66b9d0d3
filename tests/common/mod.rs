//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let mut rnd = [0u8; 8];
        symbolon::rng::fill_from_os(&mut rnd).unwrap();
        let path = std::env::temp_dir().join(format!("symbolon-test-{tag}-{}", hex::encode(rnd)));
        std::fs::create_dir(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Names of the entries in the directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// The binary under test: `SYMBOLON_BIN` (e.g. the static build) or the one cargo built.
pub fn bin() -> PathBuf {
    std::env::var_os("SYMBOLON_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_symbolon")), PathBuf::from)
}

/// Runs the symbolon binary in `dir` with `args`, stdin from `input` (empty if None).
pub fn run_in(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Run {
    run_with_env(dir, args, input, &[])
}

/// Like [`run_in`], with extra environment variables.
pub fn run_with_env(dir: &Path, args: &[&str], input: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(bin())
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        if let Some(bytes) = input {
            stdin.write_all(bytes).unwrap();
        }
    }
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    Run { code: status.code().unwrap_or(-1), stdout, stderr: String::from_utf8_lossy(&stderr).into_owned() }
}

/// Asserts a failed run: exit code, and every fragment present in stderr.
pub fn assert_fails(run: &Run, code: i32, fragments: &[&str]) {
    assert_eq!(run.code, code, "exit code; stderr:\n{}", run.stderr);
    for f in fragments {
        assert!(run.stderr.contains(f), "stderr lacks {f:?}:\n{}", run.stderr);
    }
}

/// Asserts a successful run.
pub fn assert_ok(run: &Run) {
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
}

/// The Vault vectors: the copy in shared/ beside the checkout if present, else the committed copy.
pub fn vault_vectors() -> serde_json::Value {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/vault-shamir.json");
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/vault-shamir.json");
    let path = if shared.exists() { shared } else { committed };
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// All k-element index subsets of 0..n, in lexicographic order.
pub fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    fn rec(start: usize, n: usize, k: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            rec(i + 1, n, k, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    rec(0, n, k, &mut Vec::new(), &mut out);
    out
}

/// The QR codes the independent decoder zbar finds in an image, sorted. Only the QR symbology is
/// enabled: with every symbology on, zbar now and then reads a few digits of a sheet's printed text
/// block as a one-dimensional barcode (seen on a page rotated by 3 degrees).
pub fn zbar_qr(path: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .args(["-q", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(path)
        .output()
        .expect("zbarimg (zbar-tools) runs");
    let mut codes: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    codes.sort();
    codes
}

/// Compares a whole output with its pinned copy `tests/snapshots/NAME.txt`. With
/// `SYMBOLON_BLESS=1` the copy is (re)written instead: a reviewer then reads the diff.
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(format!("{name}.txt"));
    if std::env::var_os("SYMBOLON_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("no snapshot {} ({e}); run with SYMBOLON_BLESS=1 to write it:\n{actual}", path.display())
    });
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines().chain(std::iter::repeat("<missing>")))
            .chain(actual.lines().skip(expected.lines().count()).map(|l| ("<missing>", l)))
            .filter(|(e, a)| e != a)
            .map(|(e, a)| format!("- {e}\n+ {a}"))
            .collect();
        panic!(
            "{} differs (SYMBOLON_BLESS=1 rewrites it):\n{}\n--- whole output:\n{actual}",
            path.display(),
            diff.join("\n")
        );
    }
}

/// `text` with every run of 40 hex digits (a fingerprint) replaced by `<FPR>`, and of 16 (a key
/// ID) by `<KEYID>`.
pub fn redact_fingerprints(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        out.push_str(match run.len() {
            40 => "<FPR>",
            16 => "<KEYID>",
            _ => &run,
        });
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// A pinentry (written into `dir`) that answers every passphrase with "pass" and appends a line
/// to `$ASKED_LOG` if set, except when the prompt's description holds `$BLOCK_ON`: then it
/// touches `$MARKER` and waits until symbolon goes away.
pub fn pinentry(dir: &Path) -> String {
    let path = dir.join("pinentry");
    std::fs::write(
        &path,
        r#"#!/bin/sh
echo "OK ready"
block=no
while IFS= read -r line; do
    case "$line" in
        SETDESC*) case "$line" in *"${BLOCK_ON:-never}"*) block=yes ;; esac; echo OK ;;
        GETPIN*)
            if [ "$block" = yes ]; then touch "$MARKER"; read -r _; exit 1; fi
            if [ -n "$ASKED_LOG" ]; then echo asked >> "$ASKED_LOG"; fi
            echo "D pass"; echo OK ;;
        BYE*) echo OK; exit 0 ;;
        *) echo OK ;;
    esac
done
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

/// A software key with passphrase "pass": NAME.asc (certificate) and NAME.key (secret key).
pub fn person(dir: &Path, name: &str) {
    use sequoia_openpgp::cert::prelude::*;
    use sequoia_openpgp::serialize::SerializeInto;
    let (cert, _) = CertBuilder::general_purpose(Some(format!("{name} <{name}@example.org>")))
        .set_password(Some("pass".into()))
        .generate()
        .unwrap();
    std::fs::write(dir.join(format!("{name}.asc")), cert.armored().to_vec().unwrap()).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), cert.as_tsk().armored().to_vec().unwrap()).unwrap();
}
