//! A faithful local stand-in of the CodeArts Req service.

pub mod cli;

/// Failures starting or running the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox: {0}")]
    Failed(String),
}
