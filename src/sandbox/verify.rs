//! Credential checks, as the API gateway does them: `X-Auth-Token` and `SDK-HMAC-SHA256`.
//!
//! Tokens are looked up by their SHA-256 digest, so the lookup time says nothing about the
//! token and no token is kept in clear. AK/SK signatures are recomputed with the client's own
//! signer functions (`crate::auth::sign`) over the headers the request's `SignedHeaders`
//! names, and compared in constant time. As the gateway does, a date more than 15 minutes off
//! is refused and an AK is locked for 5 minutes after 5 failed signatures in a row.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::query::decode_pairs;
use super::reply::{Reply, code};
use super::{IamUser, SandboxConfig};
use crate::auth::Secret;
use crate::auth::sign;

const DATE_SKEW: Duration = Duration::from_secs(15 * 60);
const LOCK_AFTER: u32 = 5;
const LOCK_FOR: Duration = Duration::from_secs(5 * 60);

/// How a request authenticated, for the request log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    None,
    Token,
    Aksk,
    /// The IAM route's password method.
    Password,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::None => "none",
            Scheme::Token => "token",
            Scheme::Aksk => "aksk",
            Scheme::Password => "password",
        }
    }
}

type Digest32 = [u8; 32];

pub(crate) struct Verifier {
    /// Token digest → expiry (`None`: never, for `--token`).
    tokens: RwLock<HashMap<Digest32, Option<Instant>>>,
    aksk: HashMap<String, Secret>,
    failures: Mutex<HashMap<String, Failures>>,
    pub iam_users: Vec<IamUser>,
    pub token_ttl: Duration,
    pub open: bool,
}

#[derive(Default)]
struct Failures {
    in_a_row: u32,
    locked_until: Option<Instant>,
}

fn digest(token: &str) -> Digest32 {
    Sha256::digest(token.as_bytes()).into()
}

impl Verifier {
    pub fn new(config: &SandboxConfig) -> Verifier {
        Verifier {
            tokens: RwLock::new(config.tokens.iter().map(|t| (digest(t), None)).collect()),
            aksk: config
                .aksk
                .iter()
                .map(|(ak, sk)| (ak.clone(), Secret::new(sk.as_str())))
                .collect(),
            failures: Mutex::new(HashMap::new()),
            iam_users: config.iam_users.clone(),
            token_ttl: config.token_ttl,
            open: config.open_auth,
        }
    }

    /// Remember a token issued by the IAM route.
    pub fn issue(&self, token: &str) {
        let expiry = Instant::now() + self.token_ttl;
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(digest(token), Some(expiry));
    }

    /// Expire every IAM-issued token now.
    pub fn expire_issued(&self) {
        let now = Instant::now();
        let mut tokens = self.tokens.write().unwrap_or_else(|e| e.into_inner());
        for expiry in tokens.values_mut().flatten() {
            *expiry = now;
        }
    }

    /// Check the request's credentials: a token if it has one, else an AK/SK signature.
    pub fn verify(&self, parts: &Parts, body: &[u8]) -> (Scheme, Result<(), Reply>) {
        if let Some(token) = parts.headers.get("x-auth-token") {
            return (Scheme::Token, self.check_token(token.as_bytes()));
        }
        if let Some(auth) = parts.headers.get("authorization") {
            return (
                Scheme::Aksk,
                self.check_signature(parts, auth.as_bytes(), body),
            );
        }
        (
            Scheme::None,
            Err(Reply::unauthorized(
                "Incorrect IAM authentication information: x-auth-token not found",
            )),
        )
    }

    fn check_token(&self, token: &[u8]) -> Result<(), Reply> {
        let bad =
            || Reply::unauthorized("Incorrect IAM authentication information: decrypt token fail");
        let Ok(token) = std::str::from_utf8(token) else {
            return Err(bad());
        };
        if !(10..=32768).contains(&token.len()) {
            return Err(bad());
        }
        if self.open {
            return Ok(());
        }
        let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
        match tokens.get(&digest(token)) {
            Some(None) => Ok(()),
            Some(Some(expiry)) if Instant::now() < *expiry => Ok(()),
            Some(Some(_)) => Err(Reply::gateway(
                axum::http::StatusCode::UNAUTHORIZED,
                code::TOKEN_EXPIRED,
                "The token must be updated.",
            )),
            None => Err(bad()),
        }
    }

    fn check_signature(&self, parts: &Parts, auth: &[u8], body: &[u8]) -> Result<(), Reply> {
        let fail = |why: &str| {
            Err(Reply::unauthorized(format!(
                "Incorrect IAM authentication information: {why}"
            )))
        };
        let Some(auth) = std::str::from_utf8(auth)
            .ok()
            .and_then(sign::parse_authorization)
        else {
            return fail("Authorization header is not a valid SDK-HMAC-SHA256 signature");
        };
        let Some(date) = header(parts, "x-sdk-date") else {
            return fail("x-sdk-date not found");
        };
        if !date_is_current(date) {
            return fail("the x-sdk-date is more than 15 minutes off the server time");
        }
        if self.open {
            return Ok(());
        }
        if self.locked(&auth.access) {
            return fail("the AK is locked after repeated signature failures");
        }
        let Some(sk) = self.aksk.get(&auth.access) else {
            return fail("AK not found");
        };
        let expected = expected_signature(parts, &auth.signed_headers, date, body, sk);
        if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
            self.record(&auth.access, true);
            Ok(())
        } else {
            self.record(&auth.access, false);
            fail("verify aksk signature fail")
        }
    }

    fn locked(&self, ak: &str) -> bool {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures
            .get(ak)
            .and_then(|f| f.locked_until)
            .is_some_and(|until| Instant::now() < until)
    }

    fn record(&self, ak: &str, ok: bool) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if ok {
            failures.remove(ak);
            return;
        }
        let entry = failures.entry(ak.to_string()).or_default();
        entry.in_a_row += 1;
        if entry.in_a_row >= LOCK_AFTER {
            entry.in_a_row = 0;
            entry.locked_until = Some(Instant::now() + LOCK_FOR);
        }
    }
}

fn header<'p>(parts: &'p Parts, name: &str) -> Option<&'p str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

fn date_is_current(date: &str) -> bool {
    let Ok(parsed) = time::PrimitiveDateTime::parse(date, sign::DATE_FORMAT) else {
        return false;
    };
    let skew = (time::OffsetDateTime::now_utc() - parsed.assume_utc()).abs();
    skew <= DATE_SKEW
}

/// The signature the client should have sent, over the headers it says it signed.
fn expected_signature(
    parts: &Parts,
    signed: &[String],
    date: &str,
    body: &[u8],
    sk: &Secret,
) -> String {
    let headers: Vec<(String, String)> = signed
        .iter()
        .map(|name| {
            let value = if name == "host" {
                header(parts, "host")
                    .or_else(|| parts.uri.authority().map(|a| a.as_str()))
                    .unwrap_or("")
            } else {
                header(parts, name).unwrap_or("")
            };
            (name.clone(), value.trim().to_string())
        })
        .collect();
    let names: Vec<&str> = signed.iter().map(String::as_str).collect();
    let query = decode_pairs(parts.uri.query().unwrap_or(""));
    let body_hash = header(parts, "x-sdk-content-sha256")
        .map(str::to_string)
        .unwrap_or_else(|| sign::hex_sha256(body));
    let canonical = sign::canonical_request(
        parts.method.as_str(),
        parts.uri.path(),
        &query,
        &headers,
        &names,
        &body_hash,
    );
    sign::hmac_hex(sk, &sign::string_to_sign(date, &canonical))
}
