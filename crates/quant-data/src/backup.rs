//! Backup and restore of a whole store as one `.tar.zst` archive.
//!
//! The archive holds every file under the store (bars, quarantine, the
//! SQLite catalog snapshot the caller adds) with relative paths, packed by
//! `tar` and compressed by zstd (level 3) with zstd's content checksum, so
//! a damaged archive fails on restore instead of restoring damaged data.
//! It is written to a temporary file beside `out` and renamed into place:
//! an interrupted backup never leaves a truncated archive under `out`.
//!
//! Restore unpacks into a temporary folder beside the target, loads and
//! validates every Parquet bar file there, and only then moves it into
//! place; an existing non-empty store is kept under
//! `<STORE>.replaced-<UTC timestamp>` (and only with `replace`). A failed
//! restore leaves the target as it was.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::store::files_with_extension;

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
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
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
    tmp.persist(out).map_err(|e| Error::io(out, e.error))?;
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
/// the first load/validation error of a restored bar file. The target is
/// unchanged on any error.
pub fn restore(archive: &Path, store: &Path, replace: bool) -> Result<RestoreReport> {
    let non_empty = store.is_dir()
        && std::fs::read_dir(store)
            .map_err(|e| Error::io(store, e))?
            .next()
            .is_some();
    if non_empty && !replace {
        return Err(Error::io(
            store,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "the store exists and is not empty; pass --replace to keep it aside and restore",
            ),
        ));
    }
    let parent = store
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".restore-")
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
    let files = all_files(staging.path())?.len();
    let bars = files_with_extension(staging.path(), "parquet")?;
    let mut rows = 0;
    for p in &bars {
        rows += crate::store::load_series(p)?.len();
    }
    let replaced = if store.exists() {
        if non_empty {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
            let mut aside = store.as_os_str().to_owned();
            aside.push(format!(".replaced-{stamp}"));
            let aside = PathBuf::from(aside);
            std::fs::rename(store, &aside).map_err(|e| Error::io(store, e))?;
            Some(aside)
        } else {
            std::fs::remove_dir(store).map_err(|e| Error::io(store, e))?;
            None
        }
    } else {
        None
    };
    if let Err(e) = std::fs::rename(staging.path(), store) {
        // put the old store back; the staging folder is removed on drop
        if let Some(aside) = &replaced {
            let _ = std::fs::rename(aside, store);
        }
        return Err(Error::io(store, e));
    }
    // renamed away: nothing left for the guard to remove
    let _ = staging.keep();
    Ok(RestoreReport {
        files,
        series: bars.len(),
        rows,
        replaced,
    })
}
