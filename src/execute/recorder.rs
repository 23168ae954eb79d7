//! Journaling from many workers through one writer thread, with group commit.
//!
//! Workers hand "batch sent" lines and settled outcomes to the writer thread and go on with
//! their next request: they never wait for a disk sync. The writer appends everything queued
//! (and what arrives within 10 ms of the last commit), commits (fsync) once for the whole
//! group, and only then passes each settled outcome to
//! `on_durable`, which counts it. So an outcome counts only once it is on disk, one fsync
//! covers many outcomes, and the sync latency never sits between two requests. An outcome
//! lost in a crash before its commit leaves its ids in flight, and they are sent again on
//! resume (deleting is idempotent in effect). The writer is a [`Recorder`]: the state journal
//! for real runs (see `journaled.rs`), or an in-memory one in tests.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::bisect::Settled;
use crate::state::StateError;

/// Where outcomes are written.
pub trait Recorder: Send + 'static {
    /// A delete of `ids` is about to be sent (attempt 1, 2...).
    fn sent(&mut self, project: &str, ids: &[u64], attempt: u32) -> Result<(), StateError>;
    /// The final word on some ids.
    fn settled(&mut self, project: &str, settled: &Settled) -> Result<(), StateError>;
    /// Make everything appended so far durable.
    fn commit(&mut self) -> Result<(), StateError>;
}

enum Message {
    Sent {
        project: usize,
        ids: Vec<u64>,
        attempt: u32,
    },
    Settled {
        project: usize,
        settled: Settled,
    },
}

/// The workers' side of the writer thread. Cloning shares the thread.
#[derive(Clone)]
pub struct JournalHandle {
    tx: mpsc::Sender<Message>,
}

/// The writer thread; [`Writer::finish`] waits for it and gives the recorder back.
pub struct Writer<R> {
    thread: JoinHandle<(R, Option<StateError>)>,
}

/// Start the writer thread around `recorder`. `projects` names the project indexes the
/// workers use; `on_durable` gets each settled outcome once it is committed; `on_error` is
/// called once if a write or commit fails (nothing more is written after that).
pub fn spawn<R: Recorder>(
    recorder: R,
    projects: Vec<String>,
    on_durable: impl FnMut(usize, Settled) + Send + 'static,
    on_error: impl FnOnce() + Send + 'static,
) -> (JournalHandle, Writer<R>) {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("journal".into())
        .spawn(move || write_loop(recorder, &projects, rx, on_durable, on_error))
        .expect("spawning the journal thread");
    (JournalHandle { tx }, Writer { thread })
}

impl JournalHandle {
    /// Journal a send.
    pub fn sent(&self, project: usize, ids: &[u64], attempt: u32) {
        let _ = self.tx.send(Message::Sent {
            project,
            ids: ids.to_vec(),
            attempt,
        });
    }

    /// Journal an outcome; it counts once durable.
    pub fn settled(&self, project: usize, settled: Settled) {
        let _ = self.tx.send(Message::Settled { project, settled });
    }
}

impl<R> Writer<R> {
    /// Wait for the thread (every handle must be dropped first) and return the recorder and
    /// the first write error, if any.
    pub fn finish(self) -> (R, Option<StateError>) {
        self.thread.join().expect("the journal thread panicked")
    }
}

fn write_loop<R: Recorder>(
    mut recorder: R,
    projects: &[String],
    rx: mpsc::Receiver<Message>,
    mut on_durable: impl FnMut(usize, Settled),
    on_error: impl FnOnce(),
) -> (R, Option<StateError>) {
    let mut on_error = Some(on_error);
    let mut error: Option<StateError> = None;
    let mut last_commit = Instant::now();
    while let Ok(first) = rx.recv() {
        if error.is_some() {
            continue; // drain, write nothing more
        }
        let mut group = Vec::new();
        let mut next = Some(first);
        // Take everything already queued: one commit for the whole group.
        while let Some(message) = next {
            let result = match message {
                Message::Sent {
                    project,
                    ids,
                    attempt,
                } => recorder.sent(&projects[project], &ids, attempt),
                Message::Settled { project, settled } => {
                    let result = recorder.settled(&projects[project], &settled);
                    group.push((project, settled));
                    result
                }
            };
            if let Err(e) = result {
                error = Some(e);
                break;
            }
            next = next_in_group(&rx, last_commit);
        }
        if error.is_none()
            && let Err(e) = recorder.commit()
        {
            error = Some(e);
        }
        last_commit = Instant::now();
        if error.is_some() {
            if let Some(on_error) = on_error.take() {
                on_error();
            }
            continue;
        }
        for (project, settled) in group {
            on_durable(project, settled);
        }
    }
    (recorder, error)
}

/// At most one commit (one disk sync) per this interval: workers never wait for it, so a
/// longer group costs nothing but a later count, and spares the disk a sync per request.
const COMMIT_EVERY: Duration = Duration::from_millis(10);

/// The next message of the current group: whatever is queued, else whatever comes before
/// `COMMIT_EVERY` has passed since the last commit. `None` closes the group.
fn next_in_group(rx: &mpsc::Receiver<Message>, last_commit: Instant) -> Option<Message> {
    match rx.try_recv() {
        Ok(message) => Some(message),
        Err(mpsc::TryRecvError::Disconnected) => None,
        Err(mpsc::TryRecvError::Empty) => {
            let wait = COMMIT_EVERY.checked_sub(last_commit.elapsed())?;
            rx.recv_timeout(wait).ok()
        }
    }
}

/// A recorder that keeps everything in memory: tests.
#[derive(Debug, Default)]
pub struct Memory {
    pub sent: Vec<(String, Vec<u64>, u32)>,
    pub settled: Vec<(String, Settled)>,
    pub commits: usize,
}

impl Recorder for Memory {
    fn sent(&mut self, project: &str, ids: &[u64], attempt: u32) -> Result<(), StateError> {
        self.sent.push((project.to_string(), ids.to_vec(), attempt));
        Ok(())
    }
    fn settled(&mut self, project: &str, settled: &Settled) -> Result<(), StateError> {
        self.settled.push((project.to_string(), settled.clone()));
        Ok(())
    }
    fn commit(&mut self) -> Result<(), StateError> {
        self.commits += 1;
        Ok(())
    }
}
