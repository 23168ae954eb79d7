//! Journaling from many workers through one writer thread, with group commit.
//!
//! Workers send "batch sent" lines without waiting, and settled outcomes with an
//! acknowledgement: the writer thread appends everything queued, commits (fsync) once for the
//! whole group, then acknowledges. An outcome is therefore on disk before the worker counts it,
//! and at 16 requests in flight one fsync covers many of them. The writer is a [`Recorder`]:
//! the state journal for real runs (see `journaled.rs`), or an in-memory one in tests and
//! the benchmark's "no journal" build.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

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
        project: String,
        ids: Vec<u64>,
        attempt: u32,
    },
    Settled {
        project: String,
        settled: Vec<Settled>,
        ack: oneshot::Sender<Result<(), String>>,
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

/// Start the writer thread around `recorder`.
pub fn spawn<R: Recorder>(recorder: R) -> (JournalHandle, Writer<R>) {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("journal".into())
        .spawn(move || write_loop(recorder, rx))
        .expect("spawning the journal thread");
    (JournalHandle { tx }, Writer { thread })
}

impl JournalHandle {
    /// Journal a send; not waited for (a lost "sent" line only means the ids look pending
    /// instead of in flight, and both are sent again).
    pub fn sent(&self, project: &str, ids: &[u64], attempt: u32) {
        let _ = self.tx.send(Message::Sent {
            project: project.to_string(),
            ids: ids.to_vec(),
            attempt,
        });
    }

    /// Journal outcomes and wait until they are durable.
    pub async fn settled(&self, project: &str, settled: Vec<Settled>) -> Result<(), String> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Message::Settled {
                project: project.to_string(),
                settled,
                ack,
            })
            .map_err(|_| "the journal writer has stopped".to_string())?;
        done.await
            .unwrap_or_else(|_| Err("the journal writer has stopped".to_string()))
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
    rx: mpsc::Receiver<Message>,
) -> (R, Option<StateError>) {
    let mut error: Option<StateError> = None;
    while let Ok(first) = rx.recv() {
        let mut acks = Vec::new();
        let mut next = Some(first);
        // Take everything already queued: one commit for the whole group.
        while let Some(message) = next {
            let result = match message {
                Message::Sent {
                    project,
                    ids,
                    attempt,
                } => recorder.sent(&project, &ids, attempt),
                Message::Settled {
                    project,
                    settled,
                    ack,
                } => {
                    acks.push(ack);
                    settled
                        .iter()
                        .try_for_each(|s| recorder.settled(&project, s))
                }
            };
            if let (Err(e), None) = (result, &error) {
                error = Some(e);
            }
            next = rx.try_recv().ok();
        }
        if error.is_none()
            && let Err(e) = recorder.commit()
        {
            error = Some(e);
        }
        let outcome = match &error {
            None => Ok(()),
            Some(e) => Err(e.to_string()),
        };
        for ack in acks {
            let _ = ack.send(outcome.clone());
        }
    }
    (recorder, error)
}

/// A recorder that keeps everything in memory: tests, and the benchmark without a journal.
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
