//! What stdout has shown of a run, so that `flow resume` prints every committed
//! agent message that no earlier command printed, and only those.
//!
//! The mark is a file beside the store, `<store>.shown/<run id>`, holding the
//! `seq` of the last agent message printed. It is written right after the
//! message is printed, with one fixed-width write at offset 0 (no other work in
//! between), so a SIGKILL can only land between two adjacent system calls to
//! leave a message printed but not marked (printed again on resume); a record
//! in the SQLite store would leave a window as long as a transaction. `flow
//! run` creates the mark before the run's first step; a run without one (made
//! by a host program, or before marks existed) is not replayed.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The mark of one run.
pub struct Shown {
    file: File,
}

impl Shown {
    /// The mark's path for `run_id` beside the store at `store`, if the id is a
    /// plain file name (run ids are UUIDs).
    fn path(store: &Path, run_id: &str) -> Option<PathBuf> {
        if run_id.is_empty() || !run_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return None;
        }
        let mut dir = store.as_os_str().to_owned();
        dir.push(".shown");
        Some(PathBuf::from(dir).join(run_id))
    }

    /// Creates the mark of a new run (nothing shown yet).
    pub fn create(store: &Path, run_id: &str) -> Result<Shown, String> {
        let path = Self::path(store, run_id).ok_or_else(|| format!("bad run id `{run_id}`"))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let shown = Shown { file };
        shown
            .set(0)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(shown)
    }

    /// Opens the mark of an existing run, if it has one.
    pub fn open(store: &Path, run_id: &str) -> Option<Shown> {
        let path = Self::path(store, run_id)?;
        let file = OpenOptions::new().read(true).write(true).open(path).ok()?;
        Some(Shown { file })
    }

    /// The `seq` of the last agent message shown (0 when none or unreadable).
    pub fn get(&self) -> u64 {
        let mut text = String::new();
        let _ = (&self.file).read_to_string(&mut text);
        text.trim().parse().unwrap_or(0)
    }

    /// Records that stdout has shown the run up to `seq`: one write of fixed width.
    pub fn set(&self, seq: u64) -> std::io::Result<()> {
        let text = format!("{seq:020}\n");
        write_at_start(&self.file, text.as_bytes())
    }
}

#[cfg(unix)]
fn write_at_start(file: &File, bytes: &[u8]) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, 0)
}

#[cfg(not(unix))]
fn write_at_start(mut file: &File, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    file.seek(SeekFrom::Start(0))?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::Shown;

    #[test]
    fn marks_are_kept_beside_the_store() {
        let dir = std::env::temp_dir().join(format!("flow-shown-{}", std::process::id()));
        let store = dir.join("runs.sqlite");
        let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        assert!(Shown::open(&store, id).is_none());
        let mark = Shown::create(&store, id).unwrap();
        mark.set(12345).unwrap();
        mark.set(7).unwrap();
        assert_eq!(Shown::open(&store, id).unwrap().get(), 7);
        assert!(Shown::create(&store, "../escape").is_err());
        assert!(Shown::open(&store, "a/b").is_none());
        let _ = std::fs::remove_dir_all(dir);
    }
}
