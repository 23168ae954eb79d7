//! Replacing a file atomically, the one way reqprune writes every file it replaces whole.
//!
//! The journal's compaction, `plan --out`, the embedded sandbox's saved items and the sandbox's
//! port file all go through [`replace`]: a temporary file in the same folder, written, synced,
//! renamed over the target, then the folder synced. A reader (or a crash at any moment) sees
//! the old file or the new one, whole, never a mix. The temporary files are named after their
//! target (`.NAME.XXXXXX.tmp`), so [`remove_leftovers`] can clear what a killed writer left of
//! one target without touching any other's. Each caller turns a [`ReplaceError`] into its own
//! error type; the [`Step`] says what failed.

use std::io::{BufWriter, Write};
use std::path::Path;

/// What [`replace`] was doing when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    CreateTemp,
    Write,
    Sync,
    Rename,
    SyncFolder,
}

impl Step {
    /// The step as a verb phrase taking the target's path: "syncing the folder of PATH".
    pub fn action(self) -> &'static str {
        match self {
            Step::CreateTemp => "creating a temporary file beside",
            Step::Write => "writing",
            Step::Sync => "syncing",
            Step::Rename => "replacing",
            Step::SyncFolder => "syncing the folder of",
        }
    }
}

/// A failed [`replace`]: the step and the I/O error. The target is left as it was.
#[derive(Debug)]
pub struct ReplaceError {
    pub step: Step,
    pub source: std::io::Error,
}

/// Replaces `path` by what `write` writes, atomically (see the module header). The writer is
/// buffered; a temporary file left by a failure is removed.
pub fn replace(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), ReplaceError> {
    let fail = |step| move |source| ReplaceError { step, source };
    let dir = folder_of(path);
    let temp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .rand_bytes(TEMP_RANDOM)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail(Step::CreateTemp))?;
    let mut buffered = BufWriter::new(temp);
    write(&mut buffered)
        .and_then(|()| buffered.flush())
        .map_err(fail(Step::Write))?;
    let temp = buffered
        .into_inner()
        .map_err(|e| fail(Step::Write)(e.into_error()))?;
    temp.as_file().sync_all().map_err(fail(Step::Sync))?;
    temp.persist(path)
        .map_err(|e| fail(Step::Rename)(e.error))?;
    sync_dir(dir).map_err(fail(Step::SyncFolder))
}

/// The folder `path` is in: `.` for a bare file name (whose parent is the empty path).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Random characters in a temporary file's name.
const TEMP_RANDOM: usize = 6;

/// `.NAME.`: the temporary files of one target, told apart from every other's.
fn temp_prefix(path: &Path) -> String {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    format!(".{name}.")
}

/// Removes what a process killed while replacing `path` left behind: its temporary files
/// (`.NAME.XXXXXX.tmp`). Call it only when no other process can be replacing `path` (the
/// journal's lock holder); the exact length keeps other targets' files (whose names may
/// extend this one's) out of it.
pub fn remove_leftovers(path: &Path) {
    let prefix = temp_prefix(path);
    let Ok(entries) = std::fs::read_dir(folder_of(path)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix)
            && name.ends_with(".tmp")
            && name.len() == prefix.len() + TEMP_RANDOM + ".tmp".len()
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "old").unwrap();
        replace(&path, |out| out.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "old").unwrap();
        let err = replace(&path, |_| Err(std::io::Error::other("boom"))).unwrap_err();
        assert_eq!(err.step, Step::Write);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn leftovers_of_other_targets_stay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        for name in [
            ".a.jsonl.abcdef.tmp",
            ".a.jsonl.x.jsonl.abcdef.tmp",
            "a.jsonl",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        remove_leftovers(&path);
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [".a.jsonl.x.jsonl.abcdef.tmp", "a.jsonl"]);
    }

    #[test]
    fn a_bare_file_name_is_in_the_current_folder() {
        assert_eq!(folder_of(Path::new("plan.json")), Path::new("."));
        assert_eq!(folder_of(Path::new("out/plan.json")), Path::new("out"));
    }
}
