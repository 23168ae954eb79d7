//! The `reqprune-sandbox` command line: flags → [`SandboxConfig`], serve until SIGINT/SIGTERM.
//!
//! Flag values are checked by clap's value parsers, so a bad flag is a usage error (exit 2)
//! naming the flag; a bad seed file or an address in use is exit 1 with the reason. Once
//! listening, the port goes to `--port-file` (written atomically, so a reader never sees it
//! half-written) and a line to stderr; a signal shuts the server down cleanly with exit 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use super::{IamUser, MissingIds, Sandbox, SandboxConfig, SandboxError, ThrottleAs, seed};
use crate::atomic_file;

/// A faithful local stand-in of Huawei Cloud CodeArts Req (the /v4 work-item API and IAM
/// tokens), for tests, benchmarks, demos and rehearsals. Only ever for local use.
// No `Debug`: it would print the accepted tokens and secret keys.
#[derive(Parser)]
#[command(name = "reqprune-sandbox", version)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Write the port to this file once listening.
    #[arg(long, value_name = "FILE")]
    pub port_file: Option<PathBuf>,
    /// Accept this X-Auth-Token (repeatable; never expires).
    #[arg(long = "token", value_name = "T")]
    pub tokens: Vec<String>,
    /// Let the IAM route (POST /v3/auth/tokens) issue tokens to this user (repeatable).
    #[arg(long = "iam-user", value_name = "DOMAIN/USER:PASSWORD", value_parser = Hidden(parse_iam_user))]
    pub iam_users: Vec<IamUser>,
    /// Lifetime of IAM-issued tokens, in seconds; expired tokens get 401 APIGW.0307.
    #[arg(long, value_name = "SECONDS", default_value_t = 86_400)]
    pub token_ttl: u64,
    /// Accept AK/SK (SDK-HMAC-SHA256) signatures made with this key pair (repeatable).
    #[arg(long = "aksk", value_name = "AK:SK", value_parser = Hidden(parse_aksk))]
    pub aksk: Vec<(String, String)>,
    /// Create work items FROM..=TO (and single ids) in project PID (repeatable).
    #[arg(long = "project", value_name = "PID=FROM-TO[,FROM-TO...]", value_parser = seed::parse_project)]
    pub projects: Vec<(String, Vec<(u64, u64)>)>,
    /// Read more `PID=FROM-TO[,...]` lines from this file (`#` comments allowed).
    #[arg(long, value_name = "FILE")]
    pub seed_file: Option<PathBuf>,
    /// Seed of the items' attributes (tracker, status, times) and of every fault draw.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// A batch naming an id that does not exist: rejected whole with 400 PM.02152001, or
    /// the missing ids ignored.
    #[arg(long, value_enum, value_name = "POLICY", default_value = "reject")]
    pub missing_ids: MissingIds,
    /// Added latency per API request: N milliseconds, or uniform in MIN-MAX.
    #[arg(long, value_name = "N|MIN-MAX", value_parser = parse_latency)]
    pub latency_ms: Option<(Duration, Duration)>,
    /// Allow this many API requests per second (token bucket); more are throttled.
    #[arg(long, value_name = "N", value_parser = parse_rate)]
    pub rate_limit: Option<f64>,
    /// Throttle as the gateway's 429 APIGW.0308 or the service's 400 PM.02153001.
    #[arg(long, value_enum, value_name = "AS", default_value = "gateway")]
    pub throttle_as: ThrottleAs,
    /// Answer this fraction of API requests 500/502/503, half of them after applying.
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = parse_fraction)]
    pub fail_rate: f64,
    /// Close the connection of this fraction of API requests with no answer, after applying.
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = parse_fraction)]
    pub drop_rate: f64,
}

/// A value parser whose errors never repeat the value: it holds a password or a secret key,
/// and clap's own message would echo it.
#[derive(Clone)]
struct Hidden<T>(fn(&str) -> Result<T, String>);

impl<T: Clone + Send + Sync + 'static> clap::builder::TypedValueParser for Hidden<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let name = arg
            .and_then(clap::Arg::get_long)
            .map_or_else(String::new, |long| format!("--{long} "));
        value
            .to_str()
            .ok_or_else(|| "not UTF-8".to_string())
            .and_then(self.0)
            .map_err(|why| {
                let message =
                    format!("invalid value for {name}(not shown: it holds a secret): {why}\n");
                clap::Error::raw(clap::error::ErrorKind::ValueValidation, message).with_cmd(cmd)
            })
    }
}

fn parse_iam_user(text: &str) -> Result<IamUser, String> {
    let usage = || "expected DOMAIN/USER:PASSWORD".to_string();
    let (domain, rest) = text.split_once('/').ok_or_else(usage)?;
    let (user, password) = rest.split_once(':').ok_or_else(usage)?;
    if domain.is_empty() || user.is_empty() || password.is_empty() {
        return Err(usage());
    }
    Ok(IamUser::new(domain, user, password))
}

fn parse_aksk(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((ak, sk)) if !ak.is_empty() && !sk.is_empty() => Ok((ak.into(), sk.into())),
        _ => Err("expected AK:SK".into()),
    }
}

fn parse_latency(text: &str) -> Result<(Duration, Duration), String> {
    let ms = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("{s:?} is not a number of milliseconds"))
    };
    let (min, max) = match text.split_once('-') {
        Some((min, max)) => (ms(min)?, ms(max)?),
        None => (ms(text)?, ms(text)?),
    };
    if min > max {
        return Err(format!("{text:?}: MIN is above MAX"));
    }
    Ok((min, max))
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err("expected a positive number of requests per second".into()),
    }
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err("expected a fraction between 0 and 1".into()),
    }
}

impl Args {
    pub fn into_config(self) -> Result<SandboxConfig, SandboxError> {
        let mut projects = std::collections::BTreeMap::new();
        for (pid, ranges) in self.projects {
            projects.entry(pid).or_insert_with(Vec::new).extend(ranges);
        }
        if let Some(path) = &self.seed_file {
            seed::read_file(path, &mut projects)?;
        }
        Ok(SandboxConfig {
            listen: self.listen,
            tokens: self.tokens,
            aksk: self.aksk,
            iam_users: self.iam_users,
            token_ttl: Duration::from_secs(self.token_ttl),
            open_auth: false,
            projects,
            seed: self.seed,
            missing_ids: self.missing_ids,
            latency: self.latency_ms,
            rate_limit: self.rate_limit,
            throttle_as: self.throttle_as,
            fail_rate: self.fail_rate,
            drop_rate: self.drop_rate,
        })
    }
}

pub fn main() -> ExitCode {
    let args = Args::parse();
    let port_file = args.port_file.clone();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args, port_file)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args, port_file: Option<PathBuf>) -> Result<(), SandboxError> {
    let config = args.into_config()?;
    let projects = config.projects.len();
    let sandbox = Sandbox::start(config).await?;
    if let Some(path) = &port_file {
        write_port_file(path, sandbox.addr().port())?;
    }
    eprintln!(
        "reqprune-sandbox: listening on {} ({projects} project(s)); Ctrl-C to stop",
        sandbox.base_url()
    );
    wait_for_signal().await;
    eprintln!("reqprune-sandbox: shutting down");
    sandbox.shutdown().await;
    Ok(())
}

/// Writes the port atomically, so a test polling the file never reads half a number.
fn write_port_file(path: &std::path::Path, port: u16) -> Result<(), SandboxError> {
    atomic_file::replace(path, |out| writeln!(out, "{port}")).map_err(|e| SandboxError::Io {
        context: "writing the port file",
        path: path.display().to_string(),
        source: e.source,
    })
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term = async {
        match term.as_mut() {
            Some(term) => {
                term.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flag_values() {
        let user = parse_iam_user("acme/alice:pa:ss").unwrap();
        assert_eq!(
            (user.domain.as_str(), user.user.as_str()),
            ("acme", "alice")
        );
        assert_eq!(user.password.expose(), "pa:ss");
        assert!(parse_iam_user("alice:pw").is_err());
        assert_eq!(parse_aksk("AK:S:K").unwrap(), ("AK".into(), "S:K".into()));
        assert!(parse_aksk(":sk").is_err());
        let ms = Duration::from_millis;
        assert_eq!(parse_latency("20").unwrap(), (ms(20), ms(20)));
        assert_eq!(parse_latency("5-50").unwrap(), (ms(5), ms(50)));
        assert!(parse_latency("50-5").is_err());
        assert!(parse_rate("0").is_err() && parse_rate("2.5").is_ok());
        assert!(parse_fraction("1.01").is_err() && parse_fraction("0.05").is_ok());
    }
}
