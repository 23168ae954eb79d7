//! The service as the executor sees it: a batch delete and a single GET per project, answering
//! an [`Answer`] that the classifier (`retry::classify`) can read.
//!
//! Keeping this a small trait lets the executor be tested against an in-memory fake and run
//! for real through `api::Client` (see `client.rs`), with no HTTP type leaking into the retry,
//! rate and bisection logic.

use std::future::Future;
use std::time::Duration;

use super::retry::{Class, Observed, TransportKind, classify};

/// What one request got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP answer.
    Http {
        status: u16,
        error_code: Option<String>,
        error_msg: Option<String>,
        request_id: Option<String>,
        retry_after: Option<Duration>,
    },
    /// No HTTP answer: connection refused or reset, timeout...
    Transport {
        kind: TransportKind,
        message: String,
    },
    /// The request could not be made at all because of the project's credentials (a token
    /// source failed, or was refused again after a refresh): stop the project.
    Credentials(String),
    /// The request could not be made (a bad endpoint, an invalid request): retrying cannot help.
    Invalid(String),
}

impl Answer {
    /// An HTTP answer with nothing but a status (tests, and 2xx).
    pub fn status(status: u16) -> Answer {
        Answer::Http {
            status,
            error_code: None,
            error_msg: None,
            request_id: None,
            retry_after: None,
        }
    }

    /// An HTTP error answer with the service's code and message.
    pub fn error(status: u16, code: &str, msg: &str) -> Answer {
        Answer::Http {
            status,
            error_code: Some(code.to_string()),
            error_msg: Some(msg.to_string()),
            request_id: None,
            retry_after: None,
        }
    }

    /// What this answer means for the request, by the classifier's table.
    pub fn class(&self) -> Class {
        match self {
            Answer::Http {
                status, error_code, ..
            } => classify(Observed::Status {
                status: *status,
                error_code: error_code.as_deref(),
            }),
            Answer::Transport { kind, .. } => classify(Observed::Transport(*kind)),
            Answer::Credentials(_) => Class::Auth,
            Answer::Invalid(_) => Class::Fatal,
        }
    }

    /// One line saying what went wrong, for failure reasons: `HTTP 503 APIGW.0601 (...)`.
    pub fn describe(&self) -> String {
        match self {
            Answer::Http {
                status,
                error_code,
                error_msg,
                ..
            } => {
                let mut out = format!("HTTP {status}");
                if let Some(code) = error_code {
                    out.push(' ');
                    out.push_str(code);
                }
                if let Some(msg) = error_msg.as_deref().filter(|m| !m.is_empty()) {
                    out.push_str(&format!(" ({msg})"));
                }
                out
            }
            Answer::Transport { kind, message } => format!("{kind:?} error: {message}"),
            Answer::Credentials(why) => format!("credentials refused: {why}"),
            Answer::Invalid(why) => why.clone(),
        }
    }
}

/// The calls the executor makes, by project index (each project may have its own credentials).
pub trait Service: Send + Sync + 'static {
    /// `DELETE /v4/projects/{id}/issues` with `{"issue_ids": ids}`.
    fn delete(&self, project: usize, ids: &[u64]) -> impl Future<Output = Answer> + Send;
    /// `GET /v4/projects/{id}/issues/{issue_id}`.
    fn get(&self, project: usize, id: u64) -> impl Future<Output = Answer> + Send;
}
