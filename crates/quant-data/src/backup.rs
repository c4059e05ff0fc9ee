//! Backup and restore of a whole store as one `.tar.zst` archive.
//!
//! The archive holds every file under the store (bars, quarantine, the
//! SQLite catalog snapshot the caller adds) with relative paths, packed by
//! `tar` and compressed by zstd (level 3) with zstd's content checksum, so
//! a damaged archive fails on restore instead of restoring damaged data.
//! It is written to a temporary file beside `out` and renamed into place:
//! an interrupted backup never leaves a truncated archive under `out`.
//!
//! The backup reads the store under its read lock ([`crate::commit`]), so
//! the archive holds one generation; the store's bookkeeping folder and
//! temporary files are not archived.
//!
//! Restore unpacks into a hidden staging folder beside the target
//! (`.<name>.restore-*`), fsyncs every file and folder, loads and
//! validates every Parquet bar file there, and only then moves it into
//! place; an existing non-empty store is kept under
//! `<STORE>.replaced-<UTC timestamp>` (and only with `replace`). On Linux
//! the swap is one `renameat2(RENAME_EXCHANGE)`, so `STORE` always names a
//! whole store, old or new; elsewhere it is two renames. A failed restore
//! leaves the target as it was. A killed one leaves, once the store is
//! next opened ([`recover_restore`], which every store open runs), either
//! the old store in place (the staging folder is removed) or the new one
//! with the old one kept aside.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::commit::sync_dir;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::store::files_with_extension;

/// The marker a restore leaves in the folder it unpacked into: it names
/// the staging folder, so that once the swap has happened the next open
/// knows that folder holds the replaced store.
const RESTORE_MARKER: &str = ".quant-restore";

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// Files archived.
    pub files: usize,
    /// Their total size before compression, bytes.
    pub bytes: u64,
    /// The archive's size, bytes.
    pub archive_bytes: u64,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// Files restored.
    pub files: usize,
    /// Parquet bar files among them, each loaded and validated.
    pub series: usize,
    /// Bars in them.
    pub rows: usize,
    /// Where the store that was replaced now is (`None` when there was none).
    pub replaced: Option<PathBuf>,
}

/// Every regular file under `dir`, sorted, as (relative path, full path).
fn all_files(dir: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let path = entry.map_err(|e| Error::io(&d, e))?.path();
            let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name == crate::commit::META_DIR || name == RESTORE_MARKER {
                continue;
            }
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                let rel = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
                out.push((rel, path));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Removes `.backup-*.tmp` files in `dir`: what a killed backup left
/// beside its archive (never under the archive's name).
fn remove_stale_backup_temps(dir: &Path) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for e in rd.filter_map(std::result::Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(".backup-") && name.ends_with(".tmp") {
            let p = e.path();
            tracing::info!(file = %p.display(), "removing what an interrupted backup left");
            std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
        }
    }
    Ok(())
}

/// Archives every file under `store` into `out` (`.tar.zst`), skipping
/// files for which `skip(relative path)` is true (a live database file the
/// caller snapshots instead) and adding `extra` (archive path, source file)
/// pairs. Half-written `.write-*.tmp` files are never archived.
///
/// # Errors
/// [`Error::Io`] naming the file that could not be read or written;
/// `out` is then untouched.
pub fn backup(
    store: &Path,
    out: &Path,
    skip: impl Fn(&Path) -> bool,
    extra: &[(PathBuf, PathBuf)],
) -> Result<BackupReport> {
    if !store.is_dir() {
        return Err(Error::io(
            store,
            std::io::Error::new(std::io::ErrorKind::NotFound, "store folder not found"),
        ));
    }
    // one generation: no commit publishes while the files are read
    let _guard = crate::commit::read_lock(store)?;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    remove_stale_backup_temps(&parent)?;
    let tmp = tempfile::Builder::new()
        .prefix(".backup-")
        .suffix(".tmp")
        .tempfile_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    let out_abs = std::fs::canonicalize(&parent)
        .map(|p| p.join(out.file_name().unwrap_or_default()))
        .unwrap_or_else(|_| out.to_path_buf());
    let mut files: Vec<(PathBuf, PathBuf)> = all_files(store)?
        .into_iter()
        .filter(|(rel, full)| {
            let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let is_tmp = name.starts_with(".write-") || name.starts_with(".backup-");
            let is_out = std::fs::canonicalize(full).is_ok_and(|f| f == out_abs);
            !is_tmp && !is_out && !skip(rel)
        })
        .collect();
    files.extend(extra.iter().cloned());
    let mut bytes = 0;
    {
        let mut enc = zstd::Encoder::new(BufWriter::new(tmp.as_file()), 3)
            .map_err(|e| Error::io(tmp.path(), e))?;
        enc.include_checksum(true)
            .map_err(|e| Error::io(tmp.path(), e))?;
        let mut tar = tar::Builder::new(enc);
        tar.mode(tar::HeaderMode::Deterministic);
        for (rel, full) in &files {
            bytes += std::fs::metadata(full)
                .map_err(|e| Error::io(full, e))?
                .len();
            tar.append_path_with_name(full, rel)
                .map_err(|e| Error::io(full, e))?;
        }
        let enc = tar.into_inner().map_err(|e| Error::io(tmp.path(), e))?;
        let mut w = enc.finish().map_err(|e| Error::io(tmp.path(), e))?;
        w.flush().map_err(|e| Error::io(tmp.path(), e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    let archive_bytes = tmp
        .as_file()
        .metadata()
        .map_err(|e| Error::io(tmp.path(), e))?
        .len();
    failpoint::hit("backup-before-rename");
    tmp.persist(out).map_err(|e| Error::io(out, e.error))?;
    sync_dir(&parent)?;
    Ok(BackupReport {
        files: files.len(),
        bytes,
        archive_bytes,
    })
}

/// Restores the archive `archive` (written by [`backup`]) as the store
/// `store`. When `store` exists and is not empty, `replace` must be true:
/// the old store is then moved to `<store>.replaced-<UTC timestamp>` and
/// its new name returned.
///
/// # Errors
/// [`Error::Io`] for an unreadable or damaged archive (a zstd checksum or
/// tar error names the archive) or an existing store without `replace`;
/// the first load/validation error of a restored bar file;
/// [`Error::Locked`] when a command is writing to the store. The target
/// is unchanged on any error.
pub fn restore(archive: &Path, store: &Path, replace: bool) -> Result<RestoreReport> {
    recover_restore(store)?;
    let non_empty = store.is_dir()
        && std::fs::read_dir(store)
            .map_err(|e| Error::io(store, e))?
            .filter_map(std::result::Result::ok)
            .any(|e| e.file_name() != crate::commit::META_DIR);
    if non_empty && !replace {
        return Err(Error::io(
            store,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "the store exists and is not empty; pass --replace to keep it aside and restore",
            ),
        ));
    }
    // no command may write to the old store while it is swapped out
    let _writer = if store.join(crate::commit::META_DIR).is_dir() {
        Some(crate::commit::Store::open(store)?)
    } else {
        None
    };
    let parent = store
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(&staging_prefix(store))
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    let f = File::open(archive).map_err(|e| Error::io(archive, e))?;
    let dec = zstd::Decoder::new(BufReader::new(f)).map_err(|e| Error::io(archive, e))?;
    let mut tar = tar::Archive::new(dec);
    // `unpack` refuses entries that would land outside the folder
    tar.unpack(staging.path())
        .map_err(|e| Error::io(archive, e))?;
    // read to the end of the zstd frame so that its checksum is verified
    // (tar stops at its end-of-archive blocks)
    std::io::copy(&mut tar.into_inner(), &mut std::io::sink())
        .map_err(|e| Error::io(archive, e))?;
    failpoint::hit("restore-unpacked");
    let unpacked = all_files(staging.path())?;
    let files = unpacked.len();
    let bars = files_with_extension(staging.path(), "parquet")?;
    let mut rows = 0;
    for p in &bars {
        rows += crate::store::load_series(p)?.len();
    }
    // durable before it becomes the store
    for (_, full) in &unpacked {
        File::open(full)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(full, e))?;
    }
    let staging_name = staging
        .path()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // a store of its own (generation 0) once in place
    let meta = staging.path().join(crate::commit::META_DIR);
    std::fs::create_dir(&meta).map_err(|e| Error::io(&meta, e))?;
    let marker = staging.path().join(RESTORE_MARKER);
    {
        let mut m = File::create(&marker).map_err(|e| Error::io(&marker, e))?;
        m.write_all(staging_name.as_bytes())
            .map_err(|e| Error::io(&marker, e))?;
        m.sync_all().map_err(|e| Error::io(&marker, e))?;
    }
    let mut dirs: Vec<PathBuf> = vec![staging.path().to_path_buf()];
    for (_, full) in &unpacked {
        for a in full.ancestors().skip(1) {
            if a.starts_with(staging.path()) && !dirs.iter().any(|d| d == a) {
                dirs.push(a.to_path_buf());
            }
        }
    }
    for d in &dirs {
        sync_dir(d)?;
    }
    sync_dir(&parent)?;
    failpoint::hit("restore-before-swap");
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let replaced = if store.exists() && non_empty {
        let aside = aside_name(store, &stamp.to_string());
        swap(staging.path(), store)?;
        // the staging path now holds the old store
        let _ = staging.keep();
        sync_dir(&parent)?;
        failpoint::hit("restore-after-swap");
        std::fs::rename(parent.join(&staging_name), &aside).map_err(|e| Error::io(&aside, e))?;
        sync_dir(&parent)?;
        Some(aside)
    } else {
        if store.exists() {
            std::fs::remove_dir_all(store).map_err(|e| Error::io(store, e))?;
        }
        std::fs::rename(staging.path(), store).map_err(|e| Error::io(store, e))?;
        // renamed away: nothing left for the guard to remove
        let _ = staging.keep();
        sync_dir(&parent)?;
        None
    };
    std::fs::remove_file(store.join(RESTORE_MARKER))
        .map_err(|e| Error::io(store.join(RESTORE_MARKER), e))?;
    sync_dir(store)?;
    Ok(RestoreReport {
        files,
        series: bars.len(),
        rows,
        replaced,
    })
}

/// `<store>.replaced-<stamp>`, with a counter when that exists already.
fn aside_name(store: &Path, stamp: &str) -> PathBuf {
    let mut n = 0;
    loop {
        let mut s = store.as_os_str().to_owned();
        s.push(format!(".replaced-{stamp}"));
        if n > 0 {
            s.push(format!("-{n}"));
        }
        let p = PathBuf::from(s);
        if !p.exists() {
            return p;
        }
        n += 1;
    }
}

/// The hidden staging folder prefix of restores into `store`.
fn staging_prefix(store: &Path) -> String {
    let name = store
        .file_name()
        .map_or_else(|| "store".into(), |n| n.to_string_lossy().into_owned());
    format!(".{name}.restore-")
}

/// Exchanges the folders `a` and `b` atomically (Linux `renameat2`).
#[cfg(target_os = "linux")]
fn swap(a: &Path, b: &Path) -> Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        a,
        rustix::fs::CWD,
        b,
        rustix::fs::RenameFlags::EXCHANGE,
    )
    .map_err(|e| Error::io(b, e.into()))
}

/// Two renames where no atomic exchange exists: `b` to a temporary name,
/// `a` to `b`, the old `b` to `a`.
#[cfg(not(target_os = "linux"))]
fn swap(a: &Path, b: &Path) -> Result<()> {
    let mut t = b.as_os_str().to_owned();
    t.push(".swap");
    let t = PathBuf::from(t);
    std::fs::rename(b, &t).map_err(|e| Error::io(b, e))?;
    std::fs::rename(a, b).map_err(|e| Error::io(b, e))?;
    std::fs::rename(&t, a).map_err(|e| Error::io(a, e))?;
    Ok(())
}

/// Whether `store` holds the marker of a restore killed after its swap.
pub(crate) fn restore_interrupted(store: &Path) -> bool {
    store.join(RESTORE_MARKER).is_file()
}

/// Finishes or undoes what a killed [`restore`] into `store` left: when
/// the store holds a restore marker, the swap happened, and the staging
/// folder it names holds the replaced store, which is moved to
/// `<store>.replaced-<time>`; every other staging folder of `store` is an
/// unfinished restore and is removed.
///
/// # Errors
/// [`Error::Io`] naming the folder that could not be moved or removed.
pub fn recover_restore(store: &Path) -> Result<()> {
    let parent = store
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let marker = store.join(RESTORE_MARKER);
    let swapped = std::fs::read_to_string(&marker).ok();
    let prefix = staging_prefix(store);
    let Ok(rd) = std::fs::read_dir(&parent) else {
        return Ok(());
    };
    for e in rd.filter_map(std::result::Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&prefix) {
            continue;
        }
        let path = e.path();
        if swapped.as_deref() == Some(name.as_str()) {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
            let aside = aside_name(store, &stamp);
            tracing::info!(old = %aside.display(), "finishing an interrupted restore: keeping the replaced store aside");
            std::fs::rename(&path, &aside).map_err(|e| Error::io(&path, e))?;
        } else {
            tracing::info!(staging = %path.display(), "removing an unfinished restore");
            std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    if swapped.is_some() {
        std::fs::remove_file(&marker).map_err(|e| Error::io(&marker, e))?;
        sync_dir(store)?;
    }
    sync_dir(&parent)?;
    Ok(())
}
