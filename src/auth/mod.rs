//! Credentials: token sources resolved into authenticated requests, and AK/SK signing.

pub mod secret;
pub mod sign;

pub use secret::Secret;

/// Failures to obtain or use a credential. Messages name the source, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("authentication failed: {0}")]
    Failed(String),
}
