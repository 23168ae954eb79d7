//! Reading the simple token sources: environment variables, files, commands, and AK/SK keys.
//!
//! Each function returns a [`Secret`] or an [`AuthError`] that names what was read (the
//! variable, the path, the program) and never the value. A command runs without a shell,
//! with stdin closed and a timeout; when it fails, its stderr is shown and its stdout (which
//! may hold a half-printed token) never is. IAM tokens live in `iam`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::credential::AkSk;
use super::{AuthError, Secret};
use crate::job::AkskSource;

/// The gateway accepts `X-Auth-Token` values of up to 32768 characters.
const MAX_TOKEN_LEN: usize = 32768;
/// How much of a failing command's stderr an error shows.
const STDERR_SHOWN: usize = 2000;

/// `env: NAME`: the variable's value, surrounding whitespace trimmed.
pub fn env_token(name: &str) -> Result<Secret, AuthError> {
    let value = env_value(name, "a token")?;
    checked_token(value, &format!("env {name}"))
}

/// `file: PATH`: the file's content, surrounding whitespace (the trailing newline) trimmed.
/// Warns when the file is readable by group or others.
pub fn file_token(path: &Path) -> Result<Secret, AuthError> {
    let unreadable = |message: String| AuthError::FileUnreadable {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    warn_if_shared(path, &file);
    // Read one byte more than a token may hold: a huge file is an error, not a huge string.
    let mut bytes = Vec::new();
    file.take(MAX_TOKEN_LEN as u64 * 2 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8 text".into()))?;
    if text.trim().is_empty() {
        return Err(AuthError::FileEmpty {
            path: path.to_path_buf(),
        });
    }
    checked_token(text, &format!("file {}", path.display()))
}

#[cfg(unix)]
fn warn_if_shared(path: &Path, file: &std::fs::File) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = file.metadata() {
        let mode = meta.permissions().mode();
        if mode & 0o044 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "token file is readable by group or others; restrict it with `chmod 600`"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &Path, _file: &std::fs::File) {}

/// `command: [argv...]`: run without a shell; its stdout, trimmed, is the token. A relative
/// program path with a `/` (`./get-token.sh`) is relative to `base_dir` (the job's folder).
pub async fn command_token(
    argv: &[String],
    base_dir: &Path,
    timeout: Duration,
) -> Result<Secret, AuthError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(AuthError::CommandSpawn {
            program: String::new(),
            message: "the command is empty".into(),
        });
    };
    let path = PathBuf::from(program);
    let executable = if path.is_relative() && program.contains('/') {
        base_dir.join(path)
    } else {
        path
    };
    let mut command = tokio::process::Command::new(&executable);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let child = command.spawn().map_err(|e| AuthError::CommandSpawn {
        program: program.clone(),
        message: e.to_string(),
    })?;
    let pid = child.id();
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(result) => result.map_err(|e| AuthError::CommandSpawn {
            program: program.clone(),
            message: e.to_string(),
        })?,
        Err(_) => {
            kill_group(pid);
            return Err(AuthError::CommandTimeout {
                program: program.clone(),
                timeout,
            });
        }
    };
    if !output.status.success() {
        return Err(AuthError::CommandFailed {
            program: program.clone(),
            status: describe_status(output.status),
            stderr: shortened_stderr(&output.stderr),
        });
    }
    let stdout = String::from_utf8(output.stdout).map_err(|_| AuthError::InvalidToken {
        source_label: format!("command {program}"),
        reason: "its output is not UTF-8 text",
    })?;
    if stdout.trim().is_empty() {
        return Err(AuthError::CommandEmpty {
            program: program.clone(),
        });
    }
    checked_token(stdout, &format!("command {program}"))
}

/// Kill the command's whole process group, so a shell script's children die with it
/// (dropping the child only kills the direct child).
fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) with a negative pid signals the process group the child leads
        // (it was spawned with `process_group(0)`); no memory is involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

fn describe_status(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exit code {code}"),
        None => status.to_string(),
    }
}

/// The end of stderr, where the reason usually is, at most [`STDERR_SHOWN`] bytes.
fn shortened_stderr(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    if text.len() <= STDERR_SHOWN {
        return text.to_string();
    }
    let mut start = text.len() - STDERR_SHOWN;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("[...]{}", &text[start..])
}

/// `aksk: {...}`: the keys from their variables. The AK is an identifier, the SK and the
/// security token are secrets.
pub fn aksk(source: &AkskSource) -> Result<AkSk, AuthError> {
    let ak = env_value(&source.ak_env, "an access key id")?;
    let label = format!("env {}", source.ak_env);
    let ak = checked_token(ak, &label)?.expose().to_string();
    let sk = Secret::new(env_value(&source.sk_env, "a secret access key")?.trim());
    let security_token = match &source.security_token_env {
        Some(name) => Some(checked_token(
            env_value(name, "a security token")?,
            &format!("env {name}"),
        )?),
        None => None,
    };
    Ok(AkSk {
        ak,
        sk,
        security_token,
        project_id: source.project_id.clone(),
    })
}

/// A variable's value; unset, empty or non-UTF-8 is an error naming the variable.
pub(super) fn env_value(name: &str, what: &'static str) -> Result<String, AuthError> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Err(AuthError::EnvEmpty {
            name: name.to_string(),
            what,
        }),
        Ok(value) => Ok(value),
        Err(std::env::VarError::NotPresent) => Err(AuthError::EnvUnset {
            name: name.to_string(),
            what,
        }),
        Err(std::env::VarError::NotUnicode(_)) => Err(AuthError::EnvNotUnicode {
            name: name.to_string(),
        }),
    }
}

/// Trim `value` and check that it can travel in an HTTP header: visible ASCII only, no
/// inner whitespace, at most [`MAX_TOKEN_LEN`] characters.
pub(super) fn checked_token(value: String, source_label: &str) -> Result<Secret, AuthError> {
    let invalid = |reason| AuthError::InvalidToken {
        source_label: source_label.to_string(),
        reason,
    };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    if trimmed.len() > MAX_TOKEN_LEN {
        return Err(invalid("it is longer than 32768 characters"));
    }
    if !trimmed.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            "it contains whitespace, control or non-ASCII characters (more than one line?)",
        ));
    }
    Ok(Secret::new(trimmed))
}
