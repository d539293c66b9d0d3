//! A staged ceremony's state on disk, between the sessions of custodians who come at different
//! times (`rekey init`, `submit`, `status`, `cancel`).
//!
//! A ceremony is a directory named by its nonce under the state root. It holds `plan.json` (the
//! typed plan record of `rekey_plan`, its hash and its parts' digests; public) and one `share-NNN.pgp` per old share
//! recorded so far. A recorded share is secret, so it is never stored in the clear: it is
//! encrypted to the OPERATOR's certificate given at `init` (ideally the operator's own card), and
//! only that key can open the recorded shares when the ceremony completes. Completion and
//! cancellation remove the directory. See docs/CEREMONY.md for the reasoning.

use crate::output::{NewDir, OutputError, Privacy, write_new_file};
use crate::rekey_plan::{PartDigest, Plan};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const SCHEMA: &str = "symbolon-ceremony";
const PLAN_FILE: &str = "plan.json";

#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    #[error(
        "there is no ceremony with nonce {nonce} in {}: check the nonce, and that this is the state directory the ceremony was started in",
        root.display()
    )]
    NoSuch { nonce: String, root: PathBuf },
    #[error("share {index} was already submitted to ceremony {nonce}")]
    AlreadySubmitted { index: u8, nonce: String },
    #[error("the state of ceremony {nonce} is damaged ({why}): cancel it and start again")]
    Damaged { nonce: String, why: String },
    #[error(
        "ceremony {nonce} was started by an older version of symbolon (its plan.json has schema version {version}; this one reads {PLAN_VERSION}): cancel it and run init again"
    )]
    OlderVersion { nonce: String, version: u64 },
    #[error(
        "ceremony {nonce} was started by a newer version of symbolon (its plan.json has schema version {version}; this one reads {PLAN_VERSION}): finish it with that version"
    )]
    NewerVersion { nonce: String, version: u64 },
    #[error(
        "{} {why}: a ceremony's state must be yours and writable by you alone, or whoever can write it could rewrite the plan. Nothing was read. Fix it ({fix}) and run the command again",
        path.display()
    )]
    Unsafe { path: PathBuf, why: String, fix: String },
    #[error(
        "ceremony {nonce}'s plan was made for nonce {inner} (plan.json was copied or edited): nothing was done. Cancel the ceremony and start a new one"
    )]
    OtherNonce { nonce: String, inner: String },
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// The version of `plan.json` this symbolon writes and reads.
pub const PLAN_VERSION: u32 = 3;

/// What `init` fixed. Public: no secret in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRecord {
    pub schema: String,
    pub schema_version: u32,
    pub nonce: String,
    pub created: String,
    /// The plan itself, typed: `submit` rebuilds the new set from it alone.
    pub plan: Plan,
    /// The plan's hash as the operator confirmed it, and the digest of each of its parts, so that
    /// damage is named by its part ([`Plan::check`]). Neither is an anchor: whoever can write
    /// this file can rewrite them. The anchor is the hash each custodian types at `submit`.
    pub plan_hash: String,
    pub digests: Vec<PartDigest>,
}

impl PlanRecord {
    /// A new ceremony's record of `plan`, under the plan's nonce.
    pub fn new(plan: Plan) -> PlanRecord {
        PlanRecord {
            schema: SCHEMA.into(),
            schema_version: PLAN_VERSION,
            nonce: plan.nonce.clone().unwrap_or_default(),
            created: plan.created.clone(),
            plan_hash: plan.hash().to_string(),
            digests: plan.digests(),
            plan,
        }
    }
}

/// Where ceremonies live: `$XDG_STATE_HOME/symbolon/ceremonies` or `~/.local/state/...`.
pub fn default_root() -> PathBuf {
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").filter(|s| !s.is_empty()) {
        return PathBuf::from(state).join("symbolon/ceremonies");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/state/symbolon/ceremonies")
}

/// A new random nonce: 16 bytes, hex (as unguessable as Vault's UUID nonces).
pub fn new_nonce() -> Result<String, crate::rng::RngError> {
    let mut n = [0u8; 16];
    crate::rng::fill_from_os(&mut n)?;
    Ok(hex::encode(n))
}

/// Creates the ceremony's directory with its plan, whole or not at all. The state root is made
/// private (0700) when it is created here, and refused when another user or group could write it.
pub fn create(root: &Path, plan: &PlanRecord) -> Result<Ceremony, CeremonyError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .map_err(|source| CeremonyError::Io { path: root.to_path_buf(), source })?;
    check_private(root, true)?;
    let dir = root.join(&plan.nonce);
    let json = serde_json::to_string_pretty(plan)
        .map_err(|e| CeremonyError::Damaged { nonce: plan.nonce.clone(), why: e.to_string() })?;
    let mut new = NewDir::create(&dir)?;
    new.write(PLAN_FILE, json.as_bytes(), Privacy::Secret)?;
    let dir = new.commit()?;
    Ok(Ceremony { dir, plan: plan.clone() })
}

/// Opens the ceremony `nonce` under `root`: the state root, the ceremony's directory and its
/// plan.json must be the user's own and writable by nobody else (as OpenSSH demands of its keys).
pub fn open(root: &Path, nonce: &str) -> Result<Ceremony, CeremonyError> {
    let dir = dir_of(root, nonce)?;
    check_private(root, true)?;
    check_private(&dir, false)?;
    check_private(&dir.join(PLAN_FILE), false)?;
    let text = read_plan(root, nonce, &dir)?;
    let plan = parse_plan(nonce, &text)?;
    Ok(Ceremony { dir, plan })
}

/// Refuses `path` unless it is the effective user's and neither group nor others may write it;
/// `follow`: a symbolic link is followed (the state root may be one), else refused.
pub fn check_private(path: &Path, follow: bool) -> Result<(), CeremonyError> {
    use std::os::unix::fs::MetadataExt;
    let meta = if follow { std::fs::metadata(path) } else { std::fs::symlink_metadata(path) }
        .map_err(|source| CeremonyError::Io { path: path.to_path_buf(), source })?;
    let unsafe_ = |why: String, fix: String| CeremonyError::Unsafe { path: path.to_path_buf(), why, fix };
    let shown = crate::sanitize(&path.display().to_string());
    if meta.file_type().is_symlink() {
        return Err(unsafe_(
            "is a symbolic link".into(),
            "a ceremony's files are never links: cancel the ceremony and start a new one".into(),
        ));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(unsafe_(
            format!("belongs to user {}, not to you (user {me})", meta.uid()),
            format!("chown {me} {shown}, or use a state directory of your own with --state-dir"),
        ));
    }
    let mode = meta.mode();
    if mode & 0o022 != 0 {
        let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (true, true) => "its group and every other user",
            (true, false) => "its group",
            _ => "every other user",
        };
        return Err(unsafe_(
            format!("can be written by {who} (mode {:o})", mode & 0o7777),
            format!("chmod go-w {shown}"),
        ));
    }
    Ok(())
}

/// Reads ceremony `nonce`'s plan.json text: it must be this nonce's, in this version's schema.
pub fn parse_plan(nonce: &str, text: &str) -> Result<PlanRecord, CeremonyError> {
    let damaged = |why: String| CeremonyError::Damaged { nonce: nonce.to_string(), why };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| damaged(e.to_string()))?;
    if value["schema"] != SCHEMA || value["nonce"] != nonce {
        return Err(damaged("plan.json does not belong to this nonce".into()));
    }
    match value["plan"]["nonce"].as_str() {
        Some(inner) if inner == nonce => {}
        inner => {
            let inner = inner.map_or("none".to_string(), crate::sanitize);
            return Err(CeremonyError::OtherNonce { nonce: nonce.to_string(), inner });
        }
    }
    match value["schema_version"].as_u64() {
        Some(v) if v == u64::from(PLAN_VERSION) => {}
        Some(version) if version > u64::from(PLAN_VERSION) => {
            return Err(CeremonyError::NewerVersion { nonce: nonce.to_string(), version });
        }
        Some(version) => return Err(CeremonyError::OlderVersion { nonce: nonce.to_string(), version }),
        None => return Err(damaged("plan.json has no schema_version".into())),
    }
    serde_json::from_value(value).map_err(|e| damaged(e.to_string()))
}

/// The directory of ceremony `nonce` and its plan.json's text.
fn no_such(root: &Path, nonce: &str) -> CeremonyError {
    CeremonyError::NoSuch { nonce: nonce.to_string(), root: root.to_path_buf() }
}

/// The directory of ceremony `nonce`: a hex nonce whose directory holds a plan.json.
fn dir_of(root: &Path, nonce: &str) -> Result<PathBuf, CeremonyError> {
    let dir = root.join(nonce);
    let valid = !nonce.is_empty() && nonce.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid || std::fs::symlink_metadata(dir.join(PLAN_FILE)).is_err() {
        return Err(no_such(root, nonce));
    }
    Ok(dir)
}

/// Opens `path` without following a link in its last component (O_NOFOLLOW): what was checked
/// is what is read or written, even if a link was swapped in since.
fn open_nofollow(path: &Path, write: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let nofollow = rustix::fs::OFlags::NOFOLLOW.bits() as i32;
    std::fs::OpenOptions::new().read(!write).write(write).custom_flags(nofollow).open(path)
}

/// Ceremony `nonce`'s plan.json text.
fn read_plan(root: &Path, nonce: &str, dir: &Path) -> Result<String, CeremonyError> {
    use std::io::Read;
    let mut text = String::new();
    open_nofollow(&dir.join(PLAN_FILE), false)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|_| no_such(root, nonce))?;
    Ok(text)
}

/// Destroys ceremony `nonce`, whatever version started it and whatever its state.
pub fn cancel(root: &Path, nonce: &str) -> Result<(), CeremonyError> {
    remove(&dir_of(root, nonce)?)
}

/// Overwrites each recorded share with zeros (synced) before the directory is removed, so that
/// the operator's key alone no longer opens them from the disk's blocks. On flash or
/// copy-on-write file systems the old blocks may survive: docs/CEREMONY.md says so.
fn remove(dir: &Path) -> Result<(), CeremonyError> {
    use std::io::Write;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.filter_map(Result::ok) {
            let is_share = entry.file_name().to_string_lossy().starts_with("share-");
            let regular = entry.file_type().is_ok_and(|t| t.is_file());
            if is_share && regular {
                let len = entry.metadata().map_or(0, |m| m.len());
                // Not through a link swapped in meanwhile.
                if let Ok(mut f) = open_nofollow(&entry.path(), true) {
                    let _ = f.write_all(&vec![0u8; usize::try_from(len).unwrap_or(0)]);
                    let _ = f.sync_all();
                }
            }
        }
    }
    std::fs::remove_dir_all(dir).map_err(|source| CeremonyError::Io { path: dir.to_path_buf(), source })
}

/// The ceremonies under `root`, by nonce: each opened, or why it cannot be.
pub fn list(root: &Path) -> Vec<(String, Result<Ceremony, CeremonyError>)> {
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    let mut out: Vec<(String, Result<Ceremony, CeremonyError>)> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        // Ceremonies are named by their hex nonce, and have a plan; anything else (a temporary
        // directory a crashed init left) is not one.
        .filter(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_hexdigit()))
        .filter(|name| root.join(name).join(PLAN_FILE).exists())
        .map(|nonce| {
            let opened = open(root, &nonce);
            (nonce, opened)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[derive(Debug)]
pub struct Ceremony {
    dir: PathBuf,
    pub plan: PlanRecord,
}

impl Ceremony {
    /// Records old share `index`, already encrypted to the operator's certificate.
    pub fn record(&self, index: u8, encrypted: &[u8]) -> Result<(), CeremonyError> {
        let path = self.share_path(index);
        if path.exists() {
            return Err(CeremonyError::AlreadySubmitted { index, nonce: self.plan.nonce.clone() });
        }
        write_new_file(&path, encrypted, Privacy::Secret)?;
        Ok(())
    }

    /// Where share `index` is recorded.
    fn share_path(&self, index: u8) -> PathBuf {
        self.dir.join(format!("share-{index:03}.pgp"))
    }

    /// Whether share `index` is recorded.
    pub fn is_recorded(&self, index: u8) -> bool {
        self.share_path(index).exists()
    }

    /// The recorded shares: (index, encrypted share), by index.
    pub fn recorded(&self) -> Result<Vec<(u8, Vec<u8>)>, CeremonyError> {
        let io = |source| CeremonyError::Io { path: self.dir.clone(), source };
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(index) = name.strip_prefix("share-").and_then(|n| n.strip_suffix(".pgp")) else { continue };
            let Ok(index) = index.parse::<u8>() else { continue };
            let bytes = std::fs::read(entry.path()).map_err(io)?;
            out.push((index, bytes));
        }
        out.sort_by_key(|(i, _)| *i);
        Ok(out)
    }

    /// Removes the ceremony and everything recorded in it (the recorded shares overwritten first).
    pub fn destroy(self) -> Result<(), CeremonyError> {
        remove(&self.dir)
    }
}
