//! What tests read back: counters, the deletion record and the request log.
//!
//! `GET /__sandbox/stats` and `GET /__sandbox/requests` (and [`super::Sandbox::stats`]) are
//! the sandbox's own account of what happened, against which a test checks that nothing
//! unplanned was deleted. Inspection requests are neither counted nor logged. The log keeps
//! ids as runs so a long benchmark stays small, and holds at most [`LOG_LIMIT`] records
//! (the oldest go first); the counters are always exact.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Serialize;

/// Most records the request log keeps.
pub const LOG_LIMIT: usize = 1_000_000;

/// `GET /__sandbox/stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Requests answered or dropped, inspection excluded.
    pub requests: u64,
    /// Status code (`"204"`, ...) → count; `"dropped"` for connections closed with no answer.
    pub by_status: BTreeMap<String, u64>,
    /// Project id → deleted ids, in deletion order.
    pub deleted: BTreeMap<String, Vec<u64>>,
    /// Project id → how many items remain.
    pub remaining: BTreeMap<String, u64>,
}

/// One entry of `GET /__sandbox/requests`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// Arrival order, from 0.
    pub seq: u64,
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    pub method: String,
    pub path: String,
    /// `None` when the connection was dropped with no answer.
    pub status: Option<u16>,
    /// The error code answered, if any.
    pub error_code: Option<String>,
    /// Work-item ids the request named (batch body or path).
    pub ids: Vec<u64>,
    /// `none`, `token`, `aksk` or `password` (the IAM route).
    pub auth: String,
    /// Injected fault: `throttle`, `fail-before`, `fail-after` or `drop`.
    pub fault: Option<String>,
    pub request_id: String,
}

/// A request as the server records it (compact).
pub(crate) struct Entry {
    pub seq: u64,
    pub time: SystemTime,
    pub method: axum::http::Method,
    pub path: Box<str>,
    pub status: Option<u16>,
    pub error_code: Option<&'static str>,
    pub ids: Vec<(u64, u64)>,
    pub auth: &'static str,
    pub fault: Option<&'static str>,
}

/// The `X-Request-Id` of request `seq`: derived, not stored, to keep the log small.
fn request_id(prefix: u64, seq: u64) -> String {
    format!("{prefix:016x}{seq:016x}")
}

#[derive(Default)]
pub(crate) struct Log {
    inner: Mutex<Inner>,
    /// Random per sandbox, so request ids differ between runs.
    id_prefix: u64,
}

#[derive(Default)]
struct Inner {
    requests: u64,
    by_status: BTreeMap<u16, u64>,
    dropped: u64,
    entries: VecDeque<Entry>,
}

/// Consecutive runs of `ids`, in their order.
pub(crate) fn runs(ids: &[u64]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(1);
    for &id in ids {
        match out.last_mut() {
            Some((_, last)) if last.checked_add(1) == Some(id) => *last = id,
            _ => out.push((id, id)),
        }
    }
    out
}

impl Log {
    pub fn new(id_prefix: u64) -> Log {
        Log {
            id_prefix,
            ..Log::default()
        }
    }

    /// The `X-Request-Id` of request `seq`.
    pub fn request_id(&self, seq: u64) -> String {
        request_id(self.id_prefix, seq)
    }

    pub fn push(&self, entry: Entry) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.requests += 1;
        match entry.status {
            Some(status) => *inner.by_status.entry(status).or_default() += 1,
            None => inner.dropped += 1,
        }
        if inner.entries.len() == LOG_LIMIT {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    /// (requests, by_status) for [`Stats`].
    pub fn counters(&self) -> (u64, BTreeMap<String, u64>) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut by_status: BTreeMap<String, u64> = inner
            .by_status
            .iter()
            .map(|(status, n)| (status.to_string(), *n))
            .collect();
        if inner.dropped > 0 {
            by_status.insert("dropped".into(), inner.dropped);
        }
        (inner.requests, by_status)
    }

    pub fn records(&self) -> Vec<RequestRecord> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .entries
            .iter()
            .map(|e| record(e, self.id_prefix))
            .collect()
    }
}

fn record(e: &Entry, id_prefix: u64) -> RequestRecord {
    let time = time::OffsetDateTime::from(e.time);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    RequestRecord {
        seq: e.seq,
        time: time.format(format).unwrap_or_default(),
        method: e.method.to_string(),
        path: e.path.to_string(),
        status: e.status,
        error_code: e.error_code.map(str::to_string),
        ids: e.ids.iter().flat_map(|&(a, b)| a..=b).collect(),
        auth: e.auth.to_string(),
        fault: e.fault.map(str::to_string),
        request_id: request_id(id_prefix, e.seq),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_compact_consecutive_ids() {
        assert_eq!(runs(&[1, 2, 3, 7, 8, 5]), vec![(1, 3), (7, 8), (5, 5)]);
        assert!(runs(&[]).is_empty());
    }

    #[test]
    fn counts_statuses_and_drops() {
        let log = Log::default();
        for status in [Some(204), Some(204), Some(400), None] {
            log.push(Entry {
                seq: 0,
                time: SystemTime::UNIX_EPOCH,
                method: axum::http::Method::DELETE,
                path: "/v4".into(),
                status,
                error_code: None,
                ids: runs(&[4, 5]),
                auth: "token",
                fault: status.is_none().then_some("drop"),
            });
        }
        let (requests, by_status) = log.counters();
        assert_eq!(requests, 4);
        assert_eq!(by_status["204"], 2);
        assert_eq!(by_status["dropped"], 1);
        let records = log.records();
        assert_eq!(records[0].ids, vec![4, 5]);
        assert_eq!(records[0].time, "1970-01-01T00:00:00.000Z");
    }
}
