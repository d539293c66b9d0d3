//! Writing results so that they appear whole or not at all, and never over anything.
//!
//! - A share set goes into a NEW directory: every file is written with `create_new` into a
//!   private temporary directory beside the target, the file system is synced once (`syncfs`),
//!   and the directory is renamed into place with `RENAME_NOREPLACE`. If anything fails, the temporary directory is removed and the
//!   target never appears. If the target exists, nothing is written.
//! - A single file (e.g. a recovered secret) is written the same way: temporary file, sync,
//!   rename without replacing.

use rustix::fs::{CWD, RenameFlags, renameat_with, syncfs};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

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

fn temp_name(path: &Path) -> Result<PathBuf, OutputError> {
    let mut tag = [0u8; 6];
    crate::rng::fill_from_os(&mut tag)
        .map_err(|e| OutputError::Io { path: path.to_path_buf(), source: std::io::Error::other(e) })?;
    let name = path.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    Ok(parent_of(path)?.join(format!(".{name}.symbolon-tmp-{}", hex::encode(tag))))
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
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Writes a new file. With `sync`, its data is on disk when this returns; otherwise the caller
/// syncs (a whole directory of files at once).
fn write_new(path: &Path, bytes: &[u8], privacy: Privacy, sync: bool) -> Result<(), OutputError> {
    let mut file = OpenOptions::new().write(true).create_new(true).mode(privacy.mode()).open(path).map_err(io(path))?;
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
        fs::DirBuilder::new().mode(0o700).create(&temp).map_err(io(&temp))?;
        Ok(NewDir { target: target.to_path_buf(), temp, committed: false })
    }

    /// Writes the file `name` (a plain file name) into the directory.
    pub fn write(&mut self, name: &str, bytes: &[u8], privacy: Privacy) -> Result<(), OutputError> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(OutputError::BadName { name: name.to_string() });
        }
        write_new(&self.temp.join(name), bytes, privacy, false)
    }

    /// Moves the finished directory into place. Fails, leaving nothing, if the target appeared.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        // One syncfs puts every file written (data and metadata) on disk, where one fsync per file
        // would cost a disk flush per share.
        let dir = File::open(&self.temp).map_err(io(&self.temp))?;
        syncfs(&dir).map_err(|e| OutputError::Io { path: self.temp.clone(), source: e.into() })?;
        dir.sync_all().map_err(io(&self.temp))?;
        rename_noreplace(&self.temp, &self.target)?;
        self.committed = true;
        sync_dir(&parent_of(&self.target)?)?;
        Ok(self.target.clone())
    }
}

impl Drop for NewDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.temp);
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
    let result = write_new(&temp, bytes, privacy, true).and_then(|()| rename_noreplace(&temp, path));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
        return result;
    }
    sync_dir(&parent_of(path)?)
}
