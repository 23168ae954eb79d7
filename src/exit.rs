//! Exit codes and the top-level error: the contract with scripts, cron and CI.
//!
//! Each I/O-facing module has its own `thiserror` enum; they meet here in [`Error`], whose
//! [`Error::exit_code`] is the only place an exit code is chosen for a failure. The codes are
//! documented in the README and must never be renumbered.

use std::process::ExitCode;

/// The exit codes, as documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success; for `apply`, every planned id deleted or absent.
    Success = 0,
    /// Any error: invalid job files, a refused or stale plan, an unreadable state...
    Error = 1,
    /// `plan --detailed-exitcode`: deletions are pending. Nothing else exits 2.
    Pending = 2,
    /// `apply` finished but some ids were rejected or failed; running again retries them.
    Partial = 3,
    /// The state is locked by another run.
    Locked = 4,
    /// Interrupted by Ctrl-C or SIGTERM.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// Every failure a command can end with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Diagnostics were already printed; this only carries the count.
    #[error("{errors} error(s) in the job files; nothing was done")]
    Invalid { errors: usize },
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    #[error(transparent)]
    Api(#[from] crate::api::ApiError),
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    /// A refused operation with a reason a person can act on (stale plan, no confirmation...).
    #[error("{0}")]
    Refused(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl Error {
    pub fn exit_code(&self) -> Exit {
        match self {
            Error::State(e) if e.is_locked() => Exit::Locked,
            _ => Exit::Error,
        }
    }

    /// An I/O error with what was being done, e.g. `writing plan.json`.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
