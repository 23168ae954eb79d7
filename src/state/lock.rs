//! The job's exclusive lock: one apply per job at a time.
//!
//! An OS lock (`File::try_lock`, `flock` on Unix) on `NAME.lock` in the state folder, held
//! for the whole apply by the [`super::Journal`]. The kernel releases it when the process
//! ends however it ends, so a crash never leaves a stale lock to clean up. The holder writes
//! its pid and start time into the file so that a second run can say who holds it; readers
//! (`plan`, `status`) never touch the lock.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::StateError;
use super::record::now;

/// Who holds a lock, as written in the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub started: String,
}

impl Holder {
    /// Whether the holder's process still exists (a lock file left by a killed run still
    /// names it, but its lock is gone with it).
    pub fn is_alive(&self) -> bool {
        process_exists(self.pid)
    }
}

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct StateLock {
    file: File,
    path: PathBuf,
}

impl StateLock {
    /// Takes the lock at `path` at once, or fails with [`StateError::Locked`] naming the
    /// lock file and its holder. Never waits.
    pub fn acquire(path: &Path) -> Result<StateLock, StateError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| StateError::io("opening the lock file", path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StateError::Locked(describe_holder(
                    path,
                    read_holder(&mut file),
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(StateError::io("locking", path, e));
            }
        }
        let holder = Holder {
            pid: std::process::id(),
            started: now(),
        };
        let text = serde_json::to_string(&holder).expect("a holder serialises") + "\n";
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(text.as_bytes()))
            .map_err(|e| StateError::io("writing the lock file", path, e))?;
        Ok(StateLock {
            file,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        // Forget the holder before the lock goes with the file; a killed run skips this,
        // which is why readers check that the named process still exists.
        let _ = self.file.set_len(0);
    }
}

/// The holder named in the lock file at `path`, if any (without taking the lock).
pub fn read_holder_at(path: &Path) -> Option<Holder> {
    let mut file = File::open(path).ok()?;
    read_holder(&mut file)
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(4096).read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

fn describe_holder(path: &Path, holder: Option<Holder>) -> String {
    let who = match holder {
        Some(h) => format!("pid {} (running since {})", h.pid, h.started),
        None => "a process that has not written its pid yet".to_string(),
    };
    format!(
        "{} is held by {who}; wait for that run to end or stop it (the lock is released as \
         soon as its process exits)",
        path.display()
    )
}

#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    // Pid 0 (a damaged lock file) would signal our own process group, and always succeed.
    let Ok(pid @ 1..) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // Signal 0 checks existence only; EPERM means it exists under another user.
    // SAFETY: kill with signal 0 sends nothing and touches no memory.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_exists(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::Holder;

    #[test]
    fn a_holder_of_pid_zero_is_not_alive() {
        let holder = |pid| Holder {
            pid,
            started: String::new(),
        };
        assert!(!holder(0).is_alive());
        assert!(holder(std::process::id()).is_alive());
    }
}
