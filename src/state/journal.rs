//! The journal writer `apply` uses: exclusive lock, buffered appends, group commit, compaction.
//!
//! [`Journal::open`] takes the job's lock (or fails at once with `Locked`), replays what is
//! there and cuts off a torn last line so appends start on a clean line. [`Journal::append`]
//! applies a record to the in-memory statuses and buffers its line; [`Journal::commit`]
//! writes the buffer and `fdatasync`s it, so the executor commits before it treats an outcome
//! as final and several outcomes share one sync (group commit). The journal file itself is
//! created on the first commit, atomically with its header, so a run that fails before
//! starting leaves no state behind. Past a size threshold, and when `apply` calls
//! [`Journal::compact`] at its end, the journal is rewritten as a snapshot.

use std::cell::OnceCell;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::lock::StateLock;
use super::record::{FORMAT_VERSION, Header, Record, TOOL_VERSION, now};
use super::replay::{LineReader, replay_file};
use super::snapshot::{snapshot_lines, write_atomically, write_lines};
use super::tracker::Tracker;
use super::{StateError, StateView, journal_path, lock_path};
use crate::atomic_file::remove_leftovers;

/// Buffered bytes above which `append` writes them out (without syncing) to bound memory.
const WRITE_OUT_ABOVE: usize = 1 << 20;

/// Journal bytes written since the last snapshot above which `commit` compacts.
pub const DEFAULT_COMPACT_ABOVE: u64 = 32 << 20;

/// The state of one job, open for writing by a single apply.
pub struct Journal {
    /// `None` for [`Journal::disabled`].
    writer: Option<Writer>,
    tracker: Tracker,
    warnings: Vec<String>,
    /// [`StateView`] built on demand, dropped by every append.
    view: OnceCell<StateView>,
}

struct Writer {
    path: PathBuf,
    lock: StateLock,
    header: Header,
    /// `None` until the first commit creates the file.
    file: Option<File>,
    buffer: Vec<u8>,
    /// Bytes in the file.
    written: u64,
    /// The file's length right after it was created or compacted.
    snapshot_len: u64,
    compact_above: u64,
    /// Set when a write failed: the file's end is then uncertain and nothing more is written.
    poisoned: bool,
}

impl Journal {
    /// Opens the job's state for writing: takes its lock at once (else
    /// [`StateError::Locked`], exit 4) and replays the journal. A torn last line is cut off
    /// with a warning (see [`Journal::view`]'s `warnings`); any other damage is an error.
    pub fn open(state_dir: &Path, job_name: &str) -> Result<Journal, StateError> {
        let path = journal_path(state_dir, job_name)?;
        std::fs::create_dir_all(state_dir)
            .map_err(|e| StateError::io("creating the state folder", state_dir, e))?;
        let lock = StateLock::acquire(&lock_path(state_dir, job_name)?)?;
        remove_leftovers(&path);
        let Some(replayed) = replay_file(&path, job_name)? else {
            let header = Header {
                format_version: FORMAT_VERSION,
                job: job_name.to_string(),
                lineage: format!("{:032x}", rand::random::<u128>()),
                tool_version: TOOL_VERSION.to_string(),
                created: now(),
                fingerprint: None,
                sequence: 0,
            };
            let tracker = Tracker {
                header: Some(header.clone()),
                ..Tracker::default()
            };
            return Ok(Journal::with_writer(
                path,
                lock,
                header,
                None,
                0,
                tracker,
                vec![],
            ));
        };
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| StateError::io("opening", &path, e))?;
        let mut file_len = file
            .metadata()
            .map_err(|e| StateError::io("reading", &path, e))?
            .len();
        if file_len != replayed.good_len || replayed.missing_newline {
            // Cut the torn tail so the next line starts clean, and end a whole last record.
            let repair = file.set_len(replayed.good_len).and_then(|()| {
                if replayed.missing_newline {
                    (&file).write_all(b"\n")?;
                }
                file.sync_data()
            });
            repair.map_err(|e| StateError::io("repairing the end of", &path, e))?;
            file_len = replayed.good_len + u64::from(replayed.missing_newline);
        }
        let header = replayed.tracker.header.clone().expect("replay checks it");
        Ok(Journal::with_writer(
            path,
            lock,
            header,
            Some(file),
            file_len,
            replayed.tracker,
            replayed.warnings,
        ))
    }

    fn with_writer(
        path: PathBuf,
        lock: StateLock,
        header: Header,
        file: Option<File>,
        written: u64,
        tracker: Tracker,
        warnings: Vec<String>,
    ) -> Journal {
        Journal {
            writer: Some(Writer {
                path,
                lock,
                header,
                file,
                buffer: Vec::with_capacity(64 << 10),
                written,
                snapshot_len: written,
                compact_above: DEFAULT_COMPACT_ABOVE,
                poisoned: false,
            }),
            tracker,
            warnings,
            view: OnceCell::new(),
        }
    }

    /// **Benchmark only**: a journal that accepts every record and records nothing, takes no
    /// lock and touches no file, so a benchmark build can measure what journaling costs.
    /// Never use it for a real apply: an interrupted run would forget everything it did.
    pub fn disabled() -> Journal {
        Journal {
            writer: None,
            tracker: Tracker::default(),
            warnings: Vec::new(),
            view: OnceCell::new(),
        }
    }

    /// What the state says now, including records appended but not yet committed. Built on
    /// demand and dropped by every append (sorting every id: a few hundred milliseconds at a
    /// million ids), so read it before and after a run, not once per batch.
    pub fn view(&self) -> &StateView {
        self.view
            .get_or_init(|| self.tracker.view(self.warnings.clone()))
    }

    /// The journal file (`None` for a disabled journal).
    pub fn path(&self) -> Option<&Path> {
        self.writer.as_ref().map(|w| w.path.as_path())
    }

    /// The lock file held (`None` for a disabled journal).
    pub fn lock_path(&self) -> Option<&Path> {
        self.writer.as_ref().map(|w| w.lock.path())
    }

    /// Compaction threshold in bytes written since the last snapshot (tests and benchmarks).
    pub fn set_compact_threshold(&mut self, bytes: u64) {
        if let Some(writer) = &mut self.writer {
            writer.compact_above = bytes;
        }
    }

    /// Records an event: applied to the view at once, written by the next [`commit`]
    /// (or earlier when much is buffered). A record that cannot follow what came before (a
    /// run ending before any started) is refused and nothing is written.
    ///
    /// [`commit`]: Journal::commit
    pub fn append(&mut self, record: Record) -> Result<(), StateError> {
        let Some(writer) = &mut self.writer else {
            return Ok(());
        };
        if writer.poisoned {
            return Err(StateError::Poisoned(writer.path.clone()));
        }
        self.tracker.apply(&record).map_err(StateError::BadRecord)?;
        self.view.take();
        if let Record::RunStarted { fingerprint, .. } = &record {
            writer.header.fingerprint = Some(fingerprint.clone());
        }
        serde_json::to_writer(&mut writer.buffer, &record).expect("records serialise");
        writer.buffer.push(b'\n');
        if writer.buffer.len() > WRITE_OUT_ABOVE {
            writer.write_out()?;
        }
        Ok(())
    }

    /// Makes every appended record durable (write + `fdatasync`), then compacts when the
    /// journal grew past the threshold.
    pub fn commit(&mut self) -> Result<(), StateError> {
        let Some(writer) = &mut self.writer else {
            return Ok(());
        };
        writer.persist()?;
        if writer.written - writer.snapshot_len > writer.compact_above {
            self.compact()?;
        }
        Ok(())
    }

    /// Rewrites the journal as a snapshot of what it says (atomically), so the next open
    /// replays a few lines instead of the whole history. Buffered records are included.
    pub fn compact(&mut self) -> Result<(), StateError> {
        let Some(writer) = &mut self.writer else {
            return Ok(());
        };
        if writer.poisoned {
            return Err(StateError::Poisoned(writer.path.clone()));
        }
        let mut header = writer.header.clone();
        header.sequence = self.tracker.sequence();
        header.tool_version = TOOL_VERSION.to_string();
        let lines = snapshot_lines(&header, &self.tracker);
        let mut bytes = Vec::new();
        write_lines(&lines, &mut bytes);
        write_atomically(&writer.path, &bytes)?;
        writer.header = header;
        writer.buffer.clear();
        writer.written = bytes.len() as u64;
        writer.snapshot_len = writer.written;
        writer.reopen()?;
        // The statuses as a fresh replay of the new file gives them, so both always agree.
        let mut reader = LineReader::new(&writer.path, &writer.header.job);
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            reader.line(line)?;
        }
        self.tracker = reader.finish()?.tracker;
        self.view.take();
        Ok(())
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // Records appended but never committed are still worth keeping; errors cannot be
        // reported from here, and a lost record only means a batch is sent again.
        if let Some(writer) = &mut self.writer
            && !writer.buffer.is_empty()
        {
            let _ = writer.persist();
        }
    }
}

impl Writer {
    /// Writes out and syncs the buffer, creating the file with its header the first time.
    fn persist(&mut self) -> Result<(), StateError> {
        if self.poisoned {
            return Err(StateError::Poisoned(self.path.clone()));
        }
        if self.file.is_none() {
            if self.buffer.is_empty() {
                return Ok(());
            }
            let mut bytes = Vec::with_capacity(self.buffer.len() + 512);
            let header = super::record::Internal::Header(self.header.clone());
            write_lines([&header], &mut bytes);
            bytes.extend_from_slice(&self.buffer);
            write_atomically(&self.path, &bytes)?;
            self.buffer.clear();
            self.written = bytes.len() as u64;
            self.snapshot_len = 0;
            return self.reopen();
        }
        self.write_out()?;
        let file = self.file.as_ref().expect("checked above");
        if let Err(e) = file.sync_data() {
            self.poisoned = true;
            return Err(StateError::io("syncing", &self.path, e));
        }
        Ok(())
    }

    /// Writes the buffer to the file (no sync). On failure, cuts the file back to its last
    /// whole line if it can, and refuses every later write.
    fn write_out(&mut self) -> Result<(), StateError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let Some(mut file) = self.file.as_ref() else {
            // Not created yet: the first commit writes everything with the header.
            return Ok(());
        };
        if let Err(e) = file.write_all(&self.buffer) {
            self.poisoned = true;
            let _ = file.set_len(self.written);
            return Err(StateError::io("appending to", &self.path, e));
        }
        self.written += self.buffer.len() as u64;
        self.buffer.clear();
        Ok(())
    }

    /// Opens the file just renamed into place for appending. Failing that, the handle held
    /// (if any) points at the replaced file, where appends would be lost: refuse them all.
    fn reopen(&mut self) -> Result<(), StateError> {
        match OpenOptions::new().append(true).open(&self.path) {
            Ok(file) => {
                self.file = Some(file);
                Ok(())
            }
            Err(e) => {
                self.poisoned = true;
                Err(StateError::io("opening", &self.path, e))
            }
        }
    }
}
