//! Unit tests of the token sources and of the `Authenticator`'s rules (lazy resolution,
//! refresh, failure cap, one request at a time until proven), with no network: sources that
//! need a server (IAM) and the client are tested against the sandbox in `tests/auth.rs`.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::job::AkskSource;

/// Set variables for a test. Each test uses its own names, so tests running in parallel do
/// not see each other's values.
fn set_env(name: &str, value: &str) {
    // SAFETY: std serialises its own environment access; these names are unique to one
    // test and read only through `std::env`.
    unsafe { std::env::set_var(name, value) }
}

fn ctx(timeout: Duration) -> AuthContext {
    AuthContext {
        command_timeout: timeout,
        ..AuthContext::new("http://127.0.0.1:9")
    }
}

fn token_of(lease: &Lease) -> String {
    match lease.credential() {
        Credential::Token(token) => token.expose().to_string(),
        Credential::Aksk(_) => panic!("expected a token"),
    }
}

/// Everything logged at any level while `f` runs, as text.
fn captured_logs<T>(f: impl FnOnce() -> T) -> (T, String) {
    use std::io::{Read, Seek};
    let mut log = tempfile::tempfile().unwrap();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(Mutex::new(log.try_clone().unwrap()))
        .with_ansi(false)
        .finish();
    let result = tracing::subscriber::with_default(subscriber, f);
    let mut text = String::new();
    log.rewind().unwrap();
    log.read_to_string(&mut text).unwrap();
    (result, text)
}

#[test]
fn env_source_reads_trims_and_names_the_variable_when_unset_or_empty() {
    set_env("RQP_T_ENV_OK", "env-secret-123\n");
    assert_eq!(
        source::env_token("RQP_T_ENV_OK").unwrap().expose(),
        "env-secret-123"
    );
    let unset = source::env_token("RQP_T_ENV_NEVER_SET").unwrap_err();
    assert_eq!(
        unset.to_string(),
        "environment variable RQP_T_ENV_NEVER_SET is not set (it should hold a token)"
    );
    set_env("RQP_T_ENV_EMPTY", "  ");
    let empty = source::env_token("RQP_T_ENV_EMPTY").unwrap_err();
    assert!(matches!(empty, AuthError::EnvEmpty { .. }), "{empty}");
    assert!(empty.to_string().contains("RQP_T_ENV_EMPTY"));
    set_env("RQP_T_ENV_TWO_LINES", "leaky-first-line\nsecond");
    let invalid = source::env_token("RQP_T_ENV_TWO_LINES").unwrap_err();
    assert!(invalid.to_string().contains("env RQP_T_ENV_TWO_LINES"));
    assert!(!format!("{invalid} {invalid:?}").contains("leaky"));
}

#[cfg(unix)]
fn write_mode(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
#[test]
fn file_source_trims_the_newline_and_warns_when_others_can_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("private");
    write_mode(&private, "file-secret-456\n", 0o600);
    let (token, logs) = captured_logs(|| source::file_token(&private));
    assert_eq!(token.unwrap().expose(), "file-secret-456");
    assert!(!logs.contains("readable"), "{logs}");

    let shared = dir.path().join("shared");
    write_mode(&shared, "file-secret-789\r\n", 0o644);
    let (token, logs) = captured_logs(|| source::file_token(&shared));
    assert_eq!(token.unwrap().expose(), "file-secret-789");
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("readable by group or others"), "{logs}");
    assert!(logs.contains("644"), "{logs}");
    assert!(!logs.contains("file-secret"), "{logs}");
}

#[test]
fn file_source_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = source::file_token(&dir.path().join("nope")).unwrap_err();
    assert!(matches!(missing, AuthError::FileUnreadable { .. }));
    assert!(missing.to_string().contains("nope"), "{missing}");
    let empty_path = dir.path().join("empty");
    std::fs::write(&empty_path, "\n").unwrap();
    let empty = source::file_token(&empty_path).unwrap_err();
    assert!(matches!(empty, AuthError::FileEmpty { .. }), "{empty}");
}

fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn command_source_uses_stdout_and_shows_only_stderr_on_failure() {
    let dir = Path::new(".");
    let ok = source::command_token(
        &argv(&["sh", "-c", "echo cmd-secret-1"]),
        dir,
        DEFAULT_COMMAND_TIMEOUT,
    )
    .await
    .unwrap();
    assert_eq!(ok.expose(), "cmd-secret-1");

    let failing = argv(&[
        "sh",
        "-c",
        "echo cmd-secret-2; echo 'vault: permission denied' >&2; exit 3",
    ]);
    let error = source::command_token(&failing, dir, DEFAULT_COMMAND_TIMEOUT)
        .await
        .unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(text.contains("vault: permission denied"), "{text}");
    assert!(text.contains("exit code 3"), "{text}");
    assert!(!text.contains("cmd-secret-2"), "{text}");

    let silent = source::command_token(&argv(&["true"]), dir, DEFAULT_COMMAND_TIMEOUT).await;
    assert!(
        matches!(silent, Err(AuthError::CommandEmpty { .. })),
        "{silent:?}"
    );

    let missing = source::command_token(
        &argv(&["/nonexistent/rqp-tool"]),
        dir,
        DEFAULT_COMMAND_TIMEOUT,
    )
    .await;
    let missing = missing.unwrap_err();
    assert!(
        matches!(missing, AuthError::CommandSpawn { .. }),
        "{missing}"
    );
    assert!(missing.to_string().contains("/nonexistent/rqp-tool"));
}

#[tokio::test]
async fn command_source_is_killed_at_its_timeout() {
    let started = std::time::Instant::now();
    // A shell whose child also sleeps: the whole process group must go.
    let slow = argv(&["sh", "-c", "sleep 20; echo too-late"]);
    let error = source::command_token(&slow, Path::new("."), Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::CommandTimeout { .. }), "{error}");
    assert!(error.to_string().contains("300ms"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn aksk_source_reads_every_key_and_names_a_missing_one() {
    set_env("RQP_T_AK", "AK-EXAMPLE");
    set_env("RQP_T_SK", "sk-secret-abc");
    set_env("RQP_T_STS", "sts-secret-def");
    let source = AkskSource {
        ak_env: "RQP_T_AK".into(),
        sk_env: "RQP_T_SK".into(),
        security_token_env: Some("RQP_T_STS".into()),
        project_id: Some("0123456789abcdef0123456789abcdef".into()),
    };
    let keys = source::aksk(&source).unwrap();
    assert_eq!(keys.ak, "AK-EXAMPLE");
    assert_eq!(keys.sk.expose(), "sk-secret-abc");
    let debug = format!("{keys:?}");
    assert!(
        !debug.contains("sk-secret") && !debug.contains("sts-secret"),
        "{debug}"
    );
    let missing = AkskSource {
        sk_env: "RQP_T_SK_UNSET".into(),
        ..source
    };
    let error = source::aksk(&missing).unwrap_err();
    assert_eq!(
        error.to_string(),
        "environment variable RQP_T_SK_UNSET is not set (it should hold a secret access key)"
    );
}

/// A command source that prints `token-N`, N counting its runs in `dir/count`.
fn counting_command(dir: &Path) -> TokenSource {
    let script = dir.join("count.sh");
    std::fs::write(
        &script,
        "n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; echo token-$n\n",
    )
    .unwrap();
    TokenSource::Command(argv(&[
        "sh",
        "-c",
        &format!("cd {} && sh count.sh", dir.display()),
    ]))
}

fn runs(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("count"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[tokio::test]
async fn resolves_lazily_once_and_refreshes_once_per_stale_credential() {
    let dir = tempfile::tempdir().unwrap();
    let auth = Authenticator::new(
        &counting_command(dir.path()),
        dir.path(),
        ctx(DEFAULT_COMMAND_TIMEOUT),
    );
    assert_eq!(
        runs(dir.path()),
        "",
        "nothing runs before a request needs it"
    );
    let first = auth.acquire().await.unwrap();
    assert_eq!(token_of(&first), "token-0");
    auth.accepted(&first);
    let second = auth.acquire().await.unwrap();
    assert_eq!(token_of(&second), "token-0");
    assert_eq!(runs(dir.path()), "1");

    // Two requests rejected with the same stale token cause one fetch between them.
    auth.rejected(&first);
    assert!(auth.refresh(&first).await.unwrap());
    assert!(auth.refresh(&second).await.unwrap());
    assert_eq!(runs(dir.path()), "2");
    drop((first, second));
    let third = auth.acquire().await.unwrap();
    assert_eq!(token_of(&third), "token-1");
}

#[tokio::test]
async fn env_tokens_cannot_be_refreshed() {
    set_env("RQP_T_ENV_NOREFRESH", "env-secret-nr");
    let auth = Authenticator::new(
        &TokenSource::Env("RQP_T_ENV_NOREFRESH".into()),
        Path::new("."),
        ctx(DEFAULT_COMMAND_TIMEOUT),
    );
    assert!(!auth.is_refreshable());
    let lease = auth.acquire().await.unwrap();
    assert!(!auth.refresh(&lease).await.unwrap());
    let debug = format!("{auth:?} {:?}", lease.credential());
    assert_eq!(
        debug,
        r#"Authenticator { source: "env RQP_T_ENV_NOREFRESH", .. } Token((redacted))"#
    );
}

#[tokio::test]
async fn stops_after_three_failures_in_a_row_without_showing_the_token() {
    set_env("RQP_T_ENV_CAP", "env-secret-cap");
    let auth = Authenticator::new(
        &TokenSource::Env("RQP_T_ENV_CAP".into()),
        Path::new("."),
        ctx(DEFAULT_COMMAND_TIMEOUT),
    );
    let lease = auth.acquire().await.unwrap();
    auth.rejected(&lease);
    auth.accepted(&lease);
    for _ in 0..MAX_FAILURES {
        auth.rejected(&lease);
    }
    drop(lease);
    let error = match auth.acquire().await {
        Err(error) => error,
        Ok(_) => panic!("a fourth attempt must be refused"),
    };
    assert!(
        matches!(error, AuthError::TooManyFailures { failures: 3, .. }),
        "{error}"
    );
    let text = format!("{error} {error:?}");
    assert!(text.contains("env RQP_T_ENV_CAP"), "{text}");
    assert!(!text.contains("env-secret-cap"), "{text}");
}

#[tokio::test]
async fn a_failed_resolution_is_remembered_for_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fail.sh"),
        "echo x >> runs; echo nope >&2; exit 1\n",
    )
    .unwrap();
    let source = TokenSource::Command(argv(&[
        "sh",
        "-c",
        &format!("cd {} && sh fail.sh", dir.path().display()),
    ]));
    let auth = Authenticator::new(&source, dir.path(), ctx(DEFAULT_COMMAND_TIMEOUT));
    let first = auth.acquire().await.err().unwrap();
    let second = auth.acquire().await.err().unwrap();
    assert_eq!(first, second);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("runs")).unwrap(),
        "x\n"
    );
}

#[tokio::test]
async fn unproven_credentials_go_one_request_at_a_time() {
    set_env("RQP_T_ENV_PROBE", "env-secret-probe");
    let auth = Arc::new(Authenticator::new(
        &TokenSource::Env("RQP_T_ENV_PROBE".into()),
        Path::new("."),
        ctx(DEFAULT_COMMAND_TIMEOUT),
    ));
    let first = auth.acquire().await.unwrap();
    let waiting = tokio::time::timeout(Duration::from_millis(100), auth.acquire()).await;
    assert!(waiting.is_err(), "a second request must wait for the first");
    auth.accepted(&first);
    drop(first);
    let (a, b) = tokio::join!(auth.acquire(), auth.acquire());
    assert!(
        a.is_ok() && b.is_ok(),
        "once accepted, requests run concurrently"
    );
}

#[tokio::test]
async fn requests_in_flight_together_count_one_failure_between_them() {
    let dir = tempfile::tempdir().unwrap();
    let auth = Authenticator::new(
        &counting_command(dir.path()),
        dir.path(),
        ctx(DEFAULT_COMMAND_TIMEOUT),
    );
    let first = auth.acquire().await.unwrap();
    auth.accepted(&first);
    drop(first);
    // Sixteen requests in flight with a proven token; the token expires under all of them.
    let mut leases = Vec::new();
    for _ in 0..16 {
        leases.push(auth.acquire().await.unwrap());
    }
    for lease in &leases {
        auth.rejected(lease);
        assert!(auth.refresh(lease).await.unwrap());
    }
    assert_eq!(runs(dir.path()), "2", "one refresh for all of them");
    drop(leases);
    // The new token is unproven: it goes alone, and it is not refused for 16 old failures.
    let retry = auth.acquire().await.unwrap();
    assert_eq!(token_of(&retry), "token-1");
    // Unproven requests count one each: two more make three, and the next is refused.
    auth.rejected(&retry);
    drop(retry);
    let again = auth.acquire().await.unwrap();
    auth.rejected(&again);
    drop(again);
    assert!(matches!(
        auth.acquire().await.err(),
        Some(AuthError::TooManyFailures { failures: 3, .. })
    ));
}
