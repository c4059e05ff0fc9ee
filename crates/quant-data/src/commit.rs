//! Store-level commits: every file one command writes becomes visible
//! together or not at all, whatever kills the command.
//!
//! A store keeps its bookkeeping in `STORE/.quant-store/`:
//!
//! | file | role |
//! |---|---|
//! | `writer.lock` | held (exclusive `flock`) by the one command writing; a second writer fails fast with [`Error::Locked`] |
//! | `publish.lock` | readers hold it shared while they read; the writer takes it exclusive only while it moves files into place |
//! | `generation` | the number of the last commit (`0` for a new store) |
//! | `txn/<id>/data/…` | files staged by a transaction, at their store-relative paths |
//! | `txn/<id>/COMMIT` | the commit record: generation and every staged path (JSON) |
//!
//! A commit is write-ahead:
//!
//! 1. every file is written under `txn/<id>/data/` and fsynced, then every
//!    staging folder is fsynced;
//! 2. the commit record is written to `COMMIT.tmp`, fsynced and renamed
//!    to `COMMIT`, and the transaction folder fsynced: **this rename is
//!    the commit point**;
//! 3. under the exclusive publish lock each staged file is renamed over
//!    its target (same file system, so each rename is atomic), the target
//!    folders are fsynced, `generation` is replaced (temp, fsync, rename,
//!    fsync), and the transaction folder removed.
//!
//! Recovery runs whenever a store is opened (by a writer, or by a reader
//! that finds a committed transaction whose writer is gone): a
//! transaction with a `COMMIT` record is rolled forward (its remaining
//! staged files moved into place — idempotent, so a crash during recovery
//! is recovered the same way), one without is deleted, and stray
//! `.write-*.tmp` files (left by earlier versions' per-file writes) are
//! removed. A killed command therefore leaves, after the next open,
//! exactly the old store or exactly the new one; and a reader that holds
//! the publish lock (every reader in this workspace) never sees a mix.
//!
//! Locks are advisory `flock`s (`std::fs::File::lock`): they protect
//! commands of this workspace from each other; a program that reads the
//! files without the lock may see a commit half-published (never a
//! half-written file: every file is renamed into place whole).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::failpoint;

/// The bookkeeping folder's name inside a store.
pub const META_DIR: &str = ".quant-store";

const WRITER_LOCK: &str = "writer.lock";
const PUBLISH_LOCK: &str = "publish.lock";
const GENERATION: &str = "generation";
const TXN_DIR: &str = "txn";
const COMMIT: &str = "COMMIT";

/// The commit record (`txn/<id>/COMMIT`).
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    /// The generation this commit publishes.
    generation: u64,
    /// Store-relative paths of the staged files, `/`-separated.
    files: Vec<String>,
}

/// What [`Txn::commit`] published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The store's generation after the commit.
    pub generation: u64,
    /// Files published, store-relative.
    pub files: Vec<PathBuf>,
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::io(path, e)
}

/// fsyncs a folder, so that the entries created or renamed in it are
/// durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(dir, e))
}

/// Creates `dir` and its missing ancestors, fsyncing the parent of each
/// folder created.
fn create_dirs(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(e) => return Err(io(dir, e)),
    }
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    sync_dir(parent)
}

/// Writes `bytes` to `target` through a synced temporary file renamed
/// into place, then fsyncs the folder.
fn replace_file(target: &Path, bytes: &[u8]) -> Result<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".write-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| io(tmp.path(), e))?;
    tmp.as_file().sync_all().map_err(|e| io(tmp.path(), e))?;
    failpoint::hit("replace-file-before-rename");
    tmp.persist(target).map_err(|e| io(target, e.error))?;
    sync_dir(dir)
}

/// Writes a file that is not part of a store (an export, an indicator
/// table) so that it is whole or absent: `write` fills a temporary file in
/// the same folder (created if missing), which is fsynced and renamed over
/// `path`, and the folder fsynced. On an error, or killed, the previous
/// file (if any) is left as it was, plus at worst a `.write-*.tmp` beside it.
///
/// # Errors
/// [`Error::Io`] naming the file; whatever `write` returns.
pub fn write_file_atomic(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".write-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io(dir, e))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file());
        write(&mut w)?;
        w.flush().map_err(|e| io(tmp.path(), e))?;
    }
    tmp.as_file().sync_all().map_err(|e| io(tmp.path(), e))?;
    failpoint::hit("output-before-rename");
    tmp.persist(path).map_err(|e| io(path, e.error))?;
    sync_dir(dir)
}

/// A store-relative path checked to stay inside the store: relative, no
/// `..`, no root, not inside the bookkeeping folder.
fn checked_rel(rel: &Path) -> Result<String> {
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(p) => {
                let s = p.to_str().ok_or_else(|| Error::Store {
                    path: rel.to_path_buf(),
                    message: "path is not valid UTF-8".into(),
                })?;
                parts.push(s.to_string());
            }
            Component::CurDir => {}
            _ => {
                return Err(Error::Store {
                    path: rel.to_path_buf(),
                    message: "a store path must be relative and stay inside the store".into(),
                });
            }
        }
    }
    if parts.is_empty() || parts[0] == META_DIR {
        return Err(Error::Store {
            path: rel.to_path_buf(),
            message: "not a data file path of the store".into(),
        });
    }
    Ok(parts.join("/"))
}

fn open_lock(path: &Path, write: bool) -> Result<File> {
    let mut o = OpenOptions::new();
    o.read(true);
    if write {
        o.write(true).create(true).truncate(false);
    }
    o.open(path).map_err(|e| io(path, e))
}

/// A store opened for writing: holds the writer lock until dropped.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    meta: PathBuf,
    _writer: File,
}

impl Store {
    /// Opens (creating if needed) the store at `root` for writing: takes
    /// the writer lock, then recovers whatever an interrupted command left
    /// (see the module documentation).
    ///
    /// # Errors
    /// [`Error::Locked`] when another command holds the writer lock;
    /// [`Error::Io`] / [`Error::Store`] naming the file at fault when the
    /// store cannot be created or recovered.
    pub fn open(root: &Path) -> Result<Self> {
        create_dirs(root)?;
        let meta = root.join(META_DIR);
        create_dirs(&meta.join(TXN_DIR))?;
        let writer = open_lock(&meta.join(WRITER_LOCK), true)?;
        match writer.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Locked {
                    path: root.to_path_buf(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&meta.join(WRITER_LOCK), e)),
        }
        // the publish lock file exists for readers from now on
        open_lock(&meta.join(PUBLISH_LOCK), true)?;
        crate::backup::recover_restore(root)?;
        let store = Self {
            root: root.to_path_buf(),
            meta,
            _writer: writer,
        };
        store.recover()?;
        Ok(store)
    }

    /// The store folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The generation of the last commit (0 for a store never committed to).
    ///
    /// # Errors
    /// [`Error::Store`] when the generation file is damaged.
    pub fn generation(&self) -> Result<u64> {
        read_generation(&self.meta)
    }

    /// Starts a transaction. Only one runs at a time (the store's writer
    /// lock is this process's).
    ///
    /// # Errors
    /// [`Error::Io`] when the staging folder cannot be created.
    pub fn begin(&self) -> Result<Txn<'_>> {
        let id = format!(
            "{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        );
        let dir = self.meta.join(TXN_DIR).join(id);
        create_dirs(&dir.join("data"))?;
        Ok(Txn {
            store: self,
            dir,
            staged: BTreeMap::new(),
            done: false,
        })
    }

    /// Rolls forward committed transactions, deletes uncommitted ones,
    /// removes stray temporary files. Caller holds the writer lock.
    fn recover(&self) -> Result<()> {
        let txns = self.meta.join(TXN_DIR);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&txns)
            .map_err(|e| io(&txns, e))?
            .map(|e| e.map(|e| e.path()).map_err(|e| io(&txns, e)))
            .collect::<Result<_>>()?;
        entries.sort();
        let mut committed = Vec::new();
        for dir in entries {
            let record = dir.join(COMMIT);
            if record.is_file() {
                let text = std::fs::read(&record).map_err(|e| io(&record, e))?;
                let r: Record = serde_json::from_slice(&text).map_err(|e| Error::Store {
                    path: record.clone(),
                    message: format!("damaged commit record: {e}"),
                })?;
                committed.push((r, dir));
            } else if dir.is_dir() {
                tracing::info!(txn = %dir.display(), "removing an uncommitted transaction");
                std::fs::remove_dir_all(&dir).map_err(|e| io(&dir, e))?;
            } else {
                std::fs::remove_file(&dir).map_err(|e| io(&dir, e))?;
            }
        }
        if !committed.is_empty() {
            committed.sort_by_key(|(r, _)| r.generation);
            let lock = open_lock(&self.meta.join(PUBLISH_LOCK), true)?;
            lock.lock()
                .map_err(|e| io(&self.meta.join(PUBLISH_LOCK), e))?;
            for (r, dir) in committed {
                tracing::info!(txn = %dir.display(), generation = r.generation, "rolling a committed transaction forward");
                self.publish(&r, &dir)?;
            }
        }
        sync_dir(&txns)?;
        remove_stray_temps(&self.root)?;
        Ok(())
    }

    /// Moves a committed transaction's staged files into place (those not
    /// moved yet), writes the generation and removes the transaction.
    /// Caller holds the publish lock exclusively.
    fn publish(&self, r: &Record, dir: &Path) -> Result<()> {
        let data = dir.join("data");
        let mut touched: Vec<PathBuf> = Vec::new();
        for (k, rel) in r.files.iter().enumerate() {
            let from = data.join(rel);
            let to = self.root.join(rel);
            if from.is_file() {
                let parent = to.parent().unwrap_or(&self.root).to_path_buf();
                create_dirs(&parent)?;
                std::fs::rename(&from, &to).map_err(|e| io(&to, e))?;
                if !touched.contains(&parent) {
                    touched.push(parent);
                }
                if k == 0 {
                    failpoint::hit("publish-first-file");
                }
            } else if !to.is_file() {
                return Err(Error::Store {
                    path: to,
                    message: format!(
                        "commit {} lists this file but neither the staged copy nor the file exists",
                        r.generation
                    ),
                });
            }
        }
        for d in &touched {
            sync_dir(d)?;
        }
        failpoint::hit("publish-before-generation");
        replace_file(
            &self.meta.join(GENERATION),
            format!("{}\n", r.generation).as_bytes(),
        )?;
        std::fs::remove_dir_all(dir).map_err(|e| io(dir, e))?;
        sync_dir(&self.meta.join(TXN_DIR))?;
        Ok(())
    }
}

fn read_generation(meta: &Path) -> Result<u64> {
    let p = meta.join(GENERATION);
    match std::fs::read_to_string(&p) {
        Ok(t) => t.trim().parse().map_err(|_| Error::Store {
            path: p.clone(),
            message: format!("not a generation number: {:?}", t.trim()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io(&p, e)),
    }
}

/// Removes `.write-*.tmp` files anywhere in the store: what a killed
/// per-file write of earlier versions left, and a generation file killed
/// before its rename (in the bookkeeping folder, whose transactions are
/// left to [`Store::recover`]).
fn remove_stray_temps(root: &Path) -> Result<()> {
    let meta = root.join(META_DIR);
    let mut stack = vec![root.to_path_buf(), meta.clone()];
    while let Some(d) = stack.pop() {
        if !d.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&d).map_err(|e| io(&d, e))? {
            let entry = entry.map_err(|e| io(&d, e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| io(&path, e))?;
            if kind.is_dir() {
                // the bookkeeping folder is scanned at its top level only
                if name != META_DIR && d != meta {
                    stack.push(path);
                }
            } else if name.starts_with(".write-") && name.ends_with(".tmp") {
                tracing::info!(file = %path.display(), "removing a stray temporary file");
                std::fs::remove_file(&path).map_err(|e| io(&path, e))?;
            }
        }
    }
    Ok(())
}

/// One command's writes to a store, published together by
/// [`Txn::commit`]; dropped without a commit, it leaves the store as it
/// was and removes its staged files.
#[derive(Debug)]
pub struct Txn<'s> {
    store: &'s Store,
    dir: PathBuf,
    /// Store-relative path (`/`-separated) → staged file.
    staged: BTreeMap<String, PathBuf>,
    done: bool,
}

impl Txn<'_> {
    /// The store this transaction writes to.
    pub fn store(&self) -> &Store {
        self.store
    }

    /// Stages a file at the store-relative path `rel`: `write` fills it
    /// (its bytes go to a staging file, fsynced afterwards). A second put
    /// of the same path replaces the first.
    ///
    /// # Errors
    /// [`Error::Store`] for a path outside the store; whatever `write`
    /// returns; [`Error::Io`] on a write or fsync failure.
    pub fn put_with(
        &mut self,
        rel: &Path,
        write: impl FnOnce(&mut (dyn Write + Send), &Path) -> Result<()>,
    ) -> Result<()> {
        let key = checked_rel(rel)?;
        let path = self.dir.join("data").join(&key);
        create_dirs(path.parent().unwrap_or(&self.dir))?;
        let file = File::create(&path).map_err(|e| io(&path, e))?;
        let mut w = MidFile {
            inner: std::io::BufWriter::new(&file),
            written: 0,
        };
        write(&mut w, &self.store.root.join(&key))?;
        w.inner.flush().map_err(|e| io(&path, e))?;
        drop(w);
        file.sync_all().map_err(|e| io(&path, e))?;
        failpoint::hit("staged-file");
        self.staged.insert(key, path);
        Ok(())
    }

    /// Stages `series` as Parquet at `rel`.
    ///
    /// # Errors
    /// As [`Txn::put_with`], and Parquet encoding errors.
    pub fn put_series(&mut self, rel: &Path, series: &crate::BarSeries) -> Result<()> {
        self.put_with(rel, |w, target| {
            crate::parquet_io::write_parquet_to(w, target, series)
        })
    }

    /// The file a read of `rel` should see inside this transaction: the
    /// staged copy when there is one, else the store's (which may not
    /// exist).
    pub fn current_path(&self, rel: &Path) -> PathBuf {
        match checked_rel(rel).ok().and_then(|k| self.staged.get(&k)) {
            Some(p) => p.clone(),
            None => self.store.root.join(rel),
        }
    }

    /// Files staged so far, store-relative.
    pub fn staged(&self) -> Vec<PathBuf> {
        self.staged.keys().map(PathBuf::from).collect()
    }

    /// Publishes every staged file at once (see the module documentation).
    /// With nothing staged, nothing changes and the generation stays.
    ///
    /// # Errors
    /// [`Error::Io`] / [`Error::Store`] naming the file; before the commit
    /// record is in place the store is unchanged, after it the next open
    /// finishes the commit.
    pub fn commit(mut self) -> Result<Committed> {
        let generation = self.store.generation()?;
        if self.staged.is_empty() {
            self.done = true;
            let _ = std::fs::remove_dir_all(&self.dir);
            return Ok(Committed {
                generation,
                files: Vec::new(),
            });
        }
        // every staging folder, deepest first, so the staged names are durable
        let mut dirs: Vec<PathBuf> = self
            .staged
            .values()
            .flat_map(|p| {
                p.ancestors()
                    .skip(1)
                    .map(Path::to_path_buf)
                    .collect::<Vec<_>>()
            })
            .filter(|d| d.starts_with(&self.dir))
            .collect();
        dirs.sort();
        dirs.dedup();
        for d in dirs.iter().rev() {
            sync_dir(d)?;
        }
        let record = Record {
            generation: generation + 1,
            files: self.staged.keys().cloned().collect(),
        };
        let bytes = serde_json::to_vec_pretty(&record).map_err(|e| Error::Store {
            path: self.dir.join(COMMIT),
            message: e.to_string(),
        })?;
        let tmp = self.dir.join("COMMIT.tmp");
        {
            let mut f = File::create(&tmp).map_err(|e| io(&tmp, e))?;
            f.write_all(&bytes).map_err(|e| io(&tmp, e))?;
            f.sync_all().map_err(|e| io(&tmp, e))?;
        }
        failpoint::hit("before-commit-record");
        std::fs::rename(&tmp, self.dir.join(COMMIT)).map_err(|e| io(&tmp, e))?;
        sync_dir(&self.dir)?;
        // from here on the commit stands: a failure below is finished by
        // the next open's recovery
        self.done = true;
        failpoint::hit("after-commit-record");
        let lock_path = self.store.meta.join(PUBLISH_LOCK);
        let lock = open_lock(&lock_path, true)?;
        lock.lock().map_err(|e| io(&lock_path, e))?;
        self.store.publish(&record, &self.dir)?;
        drop(lock);
        tracing::info!(
            store = %self.store.root.display(),
            generation = record.generation,
            files = record.files.len(),
            "committed"
        );
        failpoint::hit("after-publish");
        Ok(Committed {
            generation: record.generation,
            files: record.files.iter().map(PathBuf::from).collect(),
        })
    }
}

impl Drop for Txn<'_> {
    fn drop(&mut self) {
        if !self.done {
            // not committed: the store never saw these files
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A writer that hits the `mid-file` failpoint once it has passed 4 KiB,
/// so a kill test can stop a command with half a file staged.
struct MidFile<W: Write> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for MidFile<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let before = self.written;
        self.written += n as u64;
        if before < 4096 && self.written >= 4096 {
            self.inner.flush()?;
            failpoint::hit("mid-file");
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A shared hold on a store's publish lock: while it lives no commit
/// publishes, so every file read sees one generation.
#[derive(Debug)]
pub struct ReadGuard {
    root: PathBuf,
    generation: u64,
    _lock: File,
}

impl ReadGuard {
    /// The store's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The generation being read.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// The store that holds `path` (a store folder, or a file or folder inside
/// one): the nearest ancestor with a `.quant-store` folder.
pub fn find_store(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .find(|p| p.join(META_DIR).is_dir())
        .map(Path::to_path_buf)
}

/// Takes a read hold on the store that holds `path` (see [`find_store`]);
/// `None` when `path` is in no store (a plain folder of files). When a
/// killed writer left a transaction and no writer is running, recovers
/// first (finishes a committed one, removes an uncommitted one; this
/// needs write access to the store).
///
/// # Errors
/// [`Error::Io`] when the lock cannot be taken; [`Error::Store`] when the
/// store needs recovery that cannot be done from here.
pub fn read_lock(path: &Path) -> Result<Option<ReadGuard>> {
    let Some(root) = find_store(path) else {
        return Ok(None);
    };
    let meta = root.join(META_DIR);
    if has_txn(&meta)? || crate::backup::restore_interrupted(&root) {
        // the writer may be at work right now (then the lock below waits
        // for its publish, if any) or be gone (then finish its commit, or
        // remove what it staged)
        let writer_gone = match open_lock(&meta.join(WRITER_LOCK), false) {
            Ok(w) => w.try_lock_shared().is_ok(),
            // never opened for writing here (a restored store)
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(e),
        };
        if writer_gone {
            match Store::open(&root) {
                Ok(s) => drop(s),
                Err(Error::Locked { .. }) => {}
                Err(e) => {
                    return Err(Error::Store {
                        path: root.clone(),
                        message: format!(
                            "an interrupted commit must be finished before reading, and that failed: {e}"
                        ),
                    });
                }
            }
        }
    }
    let lock_path = meta.join(PUBLISH_LOCK);
    let lock = match open_lock(&lock_path, false) {
        Ok(f) => f,
        // a store made by an earlier version: no lock file yet, no commits
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    lock.lock_shared().map_err(|e| io(&lock_path, e))?;
    let generation = read_generation(&meta)?;
    Ok(Some(ReadGuard {
        root,
        generation,
        _lock: lock,
    }))
}

/// Whether a transaction folder exists (committed or not).
fn has_txn(meta: &Path) -> Result<bool> {
    let txns = meta.join(TXN_DIR);
    let Ok(mut rd) = std::fs::read_dir(&txns) else {
        return Ok(false);
    };
    Ok(rd.next().transpose().map_err(|e| io(&txns, e))?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap()
    }

    fn put(txn: &mut Txn<'_>, rel: &str, text: &str) {
        let text = text.to_string();
        txn.put_with(Path::new(rel), move |w, _| {
            w.write_all(text.as_bytes()).map_err(|e| Error::io(rel, e))
        })
        .unwrap();
    }

    #[test]
    fn commit_publishes_everything_and_drop_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.generation().unwrap(), 0);
        let mut t = store.begin().unwrap();
        put(&mut t, "a/x.txt", "one");
        put(&mut t, "b/c/y.txt", "two");
        assert!(
            !dir.path().join("a/x.txt").exists(),
            "not visible before the commit"
        );
        let c = t.commit().unwrap();
        assert_eq!(c.generation, 1);
        assert_eq!(read(&dir.path().join("a/x.txt")), "one");
        assert_eq!(read(&dir.path().join("b/c/y.txt")), "two");

        let mut t = store.begin().unwrap();
        put(&mut t, "a/x.txt", "changed");
        drop(t);
        assert_eq!(read(&dir.path().join("a/x.txt")), "one");
        assert_eq!(store.generation().unwrap(), 1);
        let txns = std::fs::read_dir(dir.path().join(".quant-store/txn"))
            .unwrap()
            .count();
        assert_eq!(txns, 0, "an abandoned transaction leaves nothing");
    }

    #[test]
    fn a_second_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, Error::Locked { .. }), "{err}");
    }

    #[test]
    fn paths_must_stay_inside_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut t = store.begin().unwrap();
        for bad in ["../x", "/etc/x", ".quant-store/generation", ""] {
            let r = t.put_with(Path::new(bad), |_, _| Ok(()));
            assert!(r.is_err(), "{bad:?}");
        }
    }

    /// What a kill after the commit record leaves is rolled forward by the
    /// next open; what a kill before it leaves is thrown away; stray
    /// temporary files go too.
    #[test]
    fn recovery_rolls_committed_forward_and_uncommitted_back() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        {
            let store = Store::open(root).unwrap();
            let mut t = store.begin().unwrap();
            put(&mut t, "a.txt", "old-a");
            put(&mut t, "b.txt", "old-b");
            t.commit().unwrap();
        }
        // a committed transaction whose publish stopped after one file
        let txn = root.join(".quant-store/txn/99-1");
        std::fs::create_dir_all(txn.join("data")).unwrap();
        std::fs::write(root.join("a.txt"), "new-a").unwrap(); // already moved
        std::fs::write(txn.join("data/b.txt"), "new-b").unwrap();
        std::fs::write(
            txn.join("COMMIT"),
            r#"{"generation": 2, "files": ["a.txt", "b.txt"]}"#,
        )
        .unwrap();
        // an uncommitted one and a stray temp file
        let junk = root.join(".quant-store/txn/100-1");
        std::fs::create_dir_all(junk.join("data")).unwrap();
        std::fs::write(junk.join("data/a.txt"), "never").unwrap();
        std::fs::write(root.join(".write-abc.tmp"), "half").unwrap();

        // a reader finishes the commit before it reads
        let g = read_lock(root).unwrap().unwrap();
        assert_eq!(g.generation(), 2);
        drop(g);
        assert_eq!(read(&root.join("a.txt")), "new-a");
        assert_eq!(read(&root.join("b.txt")), "new-b");
        assert!(!txn.exists());
        assert!(!root.join(".write-abc.tmp").exists());
        // its writer is gone, so the uncommitted one went too
        assert!(!junk.exists());
        let store = Store::open(root).unwrap();
        assert_eq!(store.generation().unwrap(), 2);
    }

    #[test]
    fn reads_inside_a_transaction_see_its_staged_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut t = store.begin().unwrap();
        assert_eq!(t.current_path(Path::new("x.txt")), dir.path().join("x.txt"));
        put(&mut t, "x.txt", "staged");
        assert_eq!(read(&t.current_path(Path::new("x.txt"))), "staged");
    }

    #[test]
    fn no_store_no_guard() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_lock(dir.path()).unwrap().is_none());
        drop(Store::open(&dir.path().join("s")).unwrap());
        let g = read_lock(&dir.path().join("s/cn/daily")).unwrap().unwrap();
        assert_eq!(g.root(), dir.path().join("s"));
    }
}
