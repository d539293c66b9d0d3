//! Writing results so that they appear whole or not at all, and never over anything.
//!
//! - A share set goes into a NEW directory: every file is written with `create_new` into a
//!   private temporary directory beside the target, the file system is synced once (`syncfs`),
//!   and the directory is renamed into place with `RENAME_NOREPLACE`. If anything fails, the
//!   temporary directory is removed and the target never appears. If the target exists, nothing
//!   is written.
//! - A single file (e.g. a recovered secret) is written the same way: temporary file, sync,
//!   rename without replacing.
//! - Every temporary is registered while it exists. On an interruption ([`crate::interrupt`])
//!   [`abandon`] removes them all and refuses any further write or commit, under the same lock
//!   the writes take, so an output is either committed whole or gone.
//! - A temporary's name carries its process's id and start time
//!   (`.NAME.symbolon-tmp-PID-START-RANDOM`): one left behind by a killed process (SIGKILL, power
//!   loss) is recognised by the next run that writes into the same directory, removed, and
//!   reported ([`take_cleaned`]). A temporary of a process still running is left alone, and so is
//!   one that is not this user's.

use rustix::fs::{CWD, RenameFlags, renameat_with, syncfs};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "{path} already exists: symbolon never writes into or over an existing file or directory; choose a new path or move the old one away"
    )]
    Exists { path: PathBuf },
    #[error("the parent directory of {path} does not exist: create it first")]
    NoParent { path: PathBuf },
    #[error("could not write {path}: {source}; nothing was written")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("'{name}' is not a plain file name")]
    BadName { name: String },
    #[error("{path} was not written: symbolon was interrupted")]
    Interrupted { path: PathBuf },
    #[error(
        "{path} was written, but its directory could not be synced to disk ({source}): check the disk and the output before relying on it"
    )]
    NotSynced { path: PathBuf, source: std::io::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io { path: path.to_path_buf(), source }
}

/// Whether a file should be readable by its owner only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privacy {
    /// 0600: shares, secrets.
    Secret,
    /// 0644: manifests and other public files.
    Public,
}

impl Privacy {
    fn mode(self) -> u32 {
        match self {
            Privacy::Secret => 0o600,
            Privacy::Public => 0o644,
        }
    }
}

fn parent_of(path: &Path) -> Result<PathBuf, OutputError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(OutputError::NoParent { path: path.to_path_buf() });
    }
    Ok(parent)
}

/// What this process has in flight and has done, for the interruption handler.
#[derive(Debug, Default)]
struct Registry {
    /// Temporaries that exist now.
    temps: Vec<PathBuf>,
    /// Outputs committed by this run.
    written: Vec<PathBuf>,
    /// Stale temporaries of killed runs removed by this run, with their process ids.
    cleaned: Vec<(PathBuf, u32)>,
    /// Set by [`abandon`]: no write or commit may happen any more.
    abandoned: bool,
}

static REGISTRY: Mutex<Registry> =
    Mutex::new(Registry { temps: Vec::new(), written: Vec::new(), cleaned: Vec::new(), abandoned: false });

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `f` under the registry's lock, unless the outputs were abandoned.
fn guarded<T>(path: &Path, f: impl FnOnce(&mut Registry) -> Result<T, OutputError>) -> Result<T, OutputError> {
    let mut reg = registry();
    if reg.abandoned {
        return Err(OutputError::Interrupted { path: path.to_path_buf() });
    }
    f(&mut reg)
}

/// What [`abandon`] found and did.
#[derive(Debug)]
pub struct Abandoned {
    /// Unfinished outputs removed.
    pub removed: Vec<PathBuf>,
    /// Temporaries that could not be removed (the error says why).
    pub left: Vec<(PathBuf, std::io::Error)>,
    /// Outputs this run had already committed before.
    pub written: Vec<PathBuf>,
    /// Stale temporaries of killed runs that this run removed and did not report yet.
    pub cleaned: Vec<(PathBuf, u32)>,
    /// Holds the lock: nothing is written or committed while it lives.
    _lock: MutexGuard<'static, Registry>,
}

/// Removes every temporary of this process and refuses every later write and commit (for an
/// interruption; the process should exit while the returned value lives, and must not call
/// into this module meanwhile: the lock is held).
pub fn abandon() -> Abandoned {
    let mut reg = registry();
    reg.abandoned = true;
    let (mut removed, mut left) = (Vec::new(), Vec::new());
    for temp in std::mem::take(&mut reg.temps) {
        match remove_any(&temp) {
            Ok(()) => removed.push(temp),
            Err(e) => left.push((temp, e)),
        }
    }
    let written = reg.written.clone();
    let cleaned = std::mem::take(&mut reg.cleaned);
    Abandoned { removed, left, written, cleaned, _lock: reg }
}

/// The stale temporaries this run removed so far (and forgets them): path and the id of the
/// process that left them.
pub fn take_cleaned() -> Vec<(PathBuf, u32)> {
    std::mem::take(&mut registry().cleaned)
}

fn remove_any(path: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

const TEMP_MARK: &str = ".symbolon-tmp-";

/// This process's start time, in clock ticks since boot (field 22 of `/proc/PID/stat`).
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn temp_name(path: &Path) -> Result<PathBuf, OutputError> {
    let mut tag = [0u8; 6];
    crate::rng::fill_from_os(&mut tag)
        .map_err(|e| OutputError::Io { path: path.to_path_buf(), source: std::io::Error::other(e) })?;
    let name = path.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let pid = std::process::id();
    let start = start_time(pid).unwrap_or(0);
    let parent = parent_of(path)?;
    clean_stale(&parent);
    Ok(parent.join(format!(".{name}{TEMP_MARK}{pid}-{start}-{}", hex::encode(tag))))
}

/// Removes the temporaries that killed symbolon runs left in `dir`: this user's, whose process
/// (by id and start time) no longer runs. What cannot be told to be stale is left alone.
fn clean_stale(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let uid = rustix::process::geteuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((pid, start)) = stale_mark(name) else { continue };
        let Ok(meta) = entry.path().symlink_metadata() else { continue };
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != uid {
            continue;
        }
        if !is_gone(pid, start) {
            continue;
        }
        let path = entry.path();
        if remove_any(&path).is_ok() {
            registry().cleaned.push((path, pid));
        }
    }
}

/// Whether the process that made a temporary is certainly gone: no process has its id (the
/// kernel says so, whatever /proc shows: a non-dumpable process is hidden under `hidepid`), or
/// one has, but it started at another time (the id was reused). Anything else, including a /proc
/// that cannot be read, counts as alive.
fn is_gone(pid: u32, start: u64) -> bool {
    let Some(raw) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else { return false };
    match rustix::process::test_kill_process(raw) {
        Err(rustix::io::Errno::SRCH) => true,
        // It exists: gone only if it is provably another process (its start time differs from
        // a start time that was recorded).
        _ => start != 0 && start_time(pid).is_some_and(|now| now != start),
    }
}

/// `(pid, start time)` of a name `.NAME.symbolon-tmp-PID-START-RANDOM`.
fn stale_mark(name: &str) -> Option<(u32, u64)> {
    if !name.starts_with('.') {
        return None;
    }
    let rest = &name[name.rfind(TEMP_MARK)? + TEMP_MARK.len()..];
    let mut parts = rest.split('-');
    let (pid, start, tag) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || tag.len() != 12 || !tag.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((pid.parse().ok()?, start.parse().ok()?))
}

fn rename_noreplace(from: &Path, to: &Path) -> Result<(), OutputError> {
    renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE).map_err(|e| {
        if e == rustix::io::Errno::EXIST {
            OutputError::Exists { path: to.to_path_buf() }
        } else {
            OutputError::Io { path: to.to_path_buf(), source: e.into() }
        }
    })
}

fn sync_dir(dir: &Path) -> Result<(), OutputError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| OutputError::NotSynced { path: dir.to_path_buf(), source })
}

/// Notes that this run wrote (part of) an output to standard output, for what an interruption
/// then says.
pub fn note_stdout() {
    let mut reg = registry();
    let stdout = PathBuf::from("standard output");
    if !reg.written.contains(&stdout) {
        reg.written.push(stdout);
    }
}

/// Creates a new file (never an existing one).
fn create_new(path: &Path, privacy: Privacy) -> Result<File, OutputError> {
    OpenOptions::new().write(true).create_new(true).mode(privacy.mode()).open(path).map_err(io(path))
}

/// Writes into a file just created. With `sync`, its data is on disk when this returns; otherwise
/// the caller syncs (a whole directory of files at once). Runs without the registry's lock: an
/// interruption meanwhile removes the file (the writes go to an unlinked file) and the process
/// exits.
fn fill(mut file: File, path: &Path, bytes: &[u8], sync: bool) -> Result<(), OutputError> {
    file.write_all(bytes).map_err(io(path))?;
    if sync {
        file.sync_all().map_err(io(path))?;
    }
    Ok(())
}

/// A directory being filled; it appears at its final path only on [`NewDir::commit`].
#[derive(Debug)]
pub struct NewDir {
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl NewDir {
    /// Starts a new output directory at `target`, which must not exist.
    pub fn create(target: &Path) -> Result<NewDir, OutputError> {
        refuse_existing(target)?;
        let temp = temp_name(target)?;
        guarded(target, |reg| {
            fs::DirBuilder::new().mode(0o700).create(&temp).map_err(io(&temp))?;
            reg.temps.push(temp.clone());
            Ok(())
        })?;
        Ok(NewDir { target: target.to_path_buf(), temp, committed: false })
    }

    /// Writes the file `name` (a plain file name) into the directory.
    pub fn write(&mut self, name: &str, bytes: &[u8], privacy: Privacy) -> Result<(), OutputError> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(OutputError::BadName { name: name.to_string() });
        }
        // Created under the lock (no file appears after an interruption removed the directory),
        // filled outside it (an interruption does not wait for a large file).
        let path = self.temp.join(name);
        let file = guarded(&self.target, |_| create_new(&path, privacy))?;
        fill(file, &path, bytes, false)
    }

    /// Moves the finished directory into place. Fails, leaving nothing, if the target appeared.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        // One syncfs puts every file written (data and metadata) on disk, where one fsync per file
        // would cost a disk flush per share.
        let dir = File::open(&self.temp).map_err(io(&self.temp))?;
        syncfs(&dir).map_err(|e| OutputError::Io { path: self.temp.clone(), source: e.into() })?;
        dir.sync_all().map_err(io(&self.temp))?;
        guarded(&self.target, |reg| {
            rename_noreplace(&self.temp, &self.target)?;
            reg.temps.retain(|t| *t != self.temp);
            reg.written.push(self.target.clone());
            Ok(())
        })?;
        self.committed = true;
        sync_dir(&parent_of(&self.target)?)?;
        Ok(self.target.clone())
    }
}

impl Drop for NewDir {
    fn drop(&mut self) {
        if !self.committed {
            let mut reg = registry();
            let _ = fs::remove_dir_all(&self.temp);
            reg.temps.retain(|t| *t != self.temp);
        }
    }
}

/// Refuses an output path that exists (a file, a directory, even a dangling symbolic link):
/// callers check before any secret is read or PIN asked; the writes check again when they create.
pub fn refuse_existing(path: &Path) -> Result<(), OutputError> {
    if path.symlink_metadata().is_ok() {
        return Err(OutputError::Exists { path: path.to_path_buf() });
    }
    Ok(())
}

/// Writes `bytes` to the new file `path` atomically; fails if `path` exists.
pub fn write_new_file(path: &Path, bytes: &[u8], privacy: Privacy) -> Result<(), OutputError> {
    refuse_existing(path)?;
    let temp = temp_name(path)?;
    // Created and registered under the lock, filled outside it, renamed under it: an interruption
    // finds the file either whole at `path` or not at all.
    let file = guarded(path, |reg| {
        let file = create_new(&temp, privacy)?;
        reg.temps.push(temp.clone());
        Ok(file)
    })?;
    let filled = fill(file, &temp, bytes, true);
    guarded(path, |reg| {
        let result = filled.and_then(|()| rename_noreplace(&temp, path));
        reg.temps.retain(|t| *t != temp);
        match result {
            Ok(()) => reg.written.push(path.to_path_buf()),
            Err(_) => {
                let _ = fs::remove_file(&temp);
            }
        }
        result
    })?;
    sync_dir(&parent_of(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_is_marked_with_its_process() {
        assert_eq!(stale_mark(".out.symbolon-tmp-123-456-0123456789ab"), Some((123, 456)));
        assert_eq!(stale_mark(".a-b.symbolon-tmp-1-2-0123456789ab"), Some((1, 2)));
        for not in [".out.symbolon-tmp-0123456789ab", ".out.symbolon-tmp-1-2-xyz", "out", ".out.symbolon-tmp-1-2-3-4"] {
            assert_eq!(stale_mark(not), None, "{not}");
        }
        let me = std::process::id();
        assert!(start_time(me).is_some_and(|t| t > 0));
    }

    /// A stale temporary (its process gone) is removed by the next write into its directory and
    /// reported; one of a live process is kept.
    #[test]
    fn stale_temporaries_are_removed_and_reported() {
        let dir = std::env::temp_dir().join(format!("symbolon-stale-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        // pid 0x7fffffff does not run; this process does.
        let stale = dir.join(".x.symbolon-tmp-2147483647-5-0123456789ab");
        fs::create_dir(&stale).unwrap();
        fs::write(stale.join("01-share.txt"), b"a share").unwrap();
        let me = std::process::id();
        let live = dir.join(format!(".y.symbolon-tmp-{me}-{}-0123456789ab", start_time(me).unwrap()));
        fs::write(&live, b"in flight").unwrap();
        let _ = take_cleaned();
        write_new_file(&dir.join("out"), b"new", Privacy::Public).unwrap();
        assert!(!stale.exists() && live.exists());
        assert!(take_cleaned().iter().any(|(p, pid)| *p == stale && *pid == 2147483647));
        fs::remove_dir_all(&dir).unwrap();
    }
}
