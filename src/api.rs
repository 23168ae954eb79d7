//! The CodeArts Req API client.

/// Failures talking to the service.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request failed: {0}")]
    Request(String),
}
