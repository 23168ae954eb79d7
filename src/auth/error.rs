//! `AuthError`: why a credential could not be obtained or may not be used.
//!
//! Every message names the source (a variable, a path, a program, an IAM endpoint) and says
//! what to do; none ever holds a secret, so they can be printed, logged and journaled as they
//! are. It is `Clone` because a failed resolution is remembered and returned to every request
//! of the run instead of being retried per batch.

use std::path::PathBuf;
use std::time::Duration;

/// Failures to obtain or use a credential. Messages name the source, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("environment variable {name} is not set (it should hold {what})")]
    EnvUnset { name: String, what: &'static str },
    #[error("environment variable {name} is empty (it should hold {what})")]
    EnvEmpty { name: String, what: &'static str },
    #[error("environment variable {name} is not valid UTF-8")]
    EnvNotUnicode { name: String },
    #[error("cannot read token file {}: {message}", path.display())]
    FileUnreadable { path: PathBuf, message: String },
    #[error("token file {} is empty", path.display())]
    FileEmpty { path: PathBuf },
    #[error("cannot run token command `{program}`: {message}")]
    CommandSpawn { program: String, message: String },
    #[error("token command `{program}` failed ({status}){}", stderr_suffix(stderr))]
    CommandFailed {
        program: String,
        status: String,
        /// The command's stderr, trimmed and shortened; its stdout is never shown.
        stderr: String,
    },
    #[error("token command `{program}` did not finish within {}; it was killed", humantime::format_duration(*timeout))]
    CommandTimeout { program: String, timeout: Duration },
    #[error("token command `{program}` printed nothing on stdout")]
    CommandEmpty { program: String },
    #[error("the token from {source_label} is not usable: {reason}")]
    InvalidToken {
        source_label: String,
        reason: &'static str,
    },
    #[error("no IAM endpoint: {0}")]
    IamEndpoint(String),
    #[error(
        "IAM at {endpoint} refused the user from {user_env}: HTTP {status}{}",
        message_suffix(message)
    )]
    IamRejected {
        endpoint: String,
        user_env: String,
        status: u16,
        message: Option<String>,
    },
    #[error("cannot reach IAM at {endpoint}: {message}")]
    IamTransport { endpoint: String, message: String },
    #[error("unexpected answer from IAM at {endpoint}: {message}")]
    IamResponse { endpoint: String, message: String },
    #[error(
        "{source_label}: {failures} authentications failed in a row; not sending more \
         (the gateway locks an AK for 5 minutes after 5). Check the credential and run again"
    )]
    TooManyFailures { source_label: String, failures: u32 },
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        ", no stderr".to_string()
    } else {
        format!(", stderr:\n{stderr}")
    }
}

fn message_suffix(message: &Option<String>) -> String {
    message
        .as_deref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default()
}
