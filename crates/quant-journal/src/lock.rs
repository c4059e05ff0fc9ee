//! The state dir's lock: one session writes one state dir.
//!
//! `LOCK` in the state dir, held with an exclusive advisory `flock`
//! ([`std::fs::File::try_lock`]) for as long as the [`crate::Journal`]
//! lives. The kernel drops the lock when the process ends however it ends
//! (a SIGKILL, a panic, a power cut), so a stale `LOCK` file never blocks
//! the next session; the file itself stays and says which process held it
//! last (`pid 1234`), for the error a second session gets.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The lock file's name in the state dir.
pub const LOCK_FILE: &str = "LOCK";

/// A held state dir lock; released when dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

/// Takes the lock of state dir `dir` without waiting.
///
/// # Errors
/// [`Error::Locked`] while another process (or another open journal of
/// this one) holds it; [`Error::Io`] when `LOCK` cannot be opened.
pub(crate) fn lock_dir(dir: &Path) -> Result<DirLock> {
    let path = dir.join(LOCK_FILE);
    let io = |path: &PathBuf| {
        let path = path.clone();
        move |source| Error::Io { path, source }
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(Error::Locked {
                what: path.display().to_string(),
                holder: if holder.is_empty() {
                    "pid unknown".to_string()
                } else {
                    holder.to_string()
                },
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(&path)(e)),
    }
    file.set_len(0).map_err(io(&path))?;
    file.rewind().map_err(io(&path))?;
    writeln!(file, "pid {}", std::process::id()).map_err(io(&path))?;
    Ok(DirLock { _file: file })
}
