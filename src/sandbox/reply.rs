//! What the sandbox answers: status, body kind, and the rendering every response shares.
//!
//! Handlers return a [`Reply`]; `server` renders it once the request id is known, so every
//! response carries `X-Request-Id` and gateway errors can repeat it in their body, as the
//! real API gateway does. Error bodies are the contract's `{"error_code", "error_msg"}`.

use axum::body::Body as HttpBody;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

/// Status codes and messages of the errors the sandbox gives (see the contract, section 4).
pub(crate) mod code {
    pub const NO_API: &str = "APIGW.0101";
    pub const BAD_REQUEST_GW: &str = "APIGW.0201";
    pub const UNAUTHORIZED: &str = "APIGW.0301";
    pub const TOKEN_EXPIRED: &str = "APIGW.0307";
    pub const THROTTLED: &str = "APIGW.0308";
    pub const INVALID_PARAMETER: &str = "PM.02152001";
    pub const NO_PROJECT: &str = "PM.02152005";
    pub const PM_THROTTLED: &str = "PM.02153001";
    pub const PAGINATION: &str = "PM.02174103";
}

/// The kinds of body the sandbox sends.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    Empty,
    Json(Value),
    /// A service (PM) error: `{"error_code", "error_msg"}`.
    Service {
        code: &'static str,
        msg: String,
    },
    /// An API gateway error: also `request_id`.
    Gateway {
        code: &'static str,
        msg: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Body,
    /// `X-Subject-Token` of the IAM route.
    pub subject_token: Option<String>,
}

impl Reply {
    pub fn no_content() -> Reply {
        Reply::new(StatusCode::NO_CONTENT, Body::Empty)
    }

    pub fn json(status: StatusCode, value: Value) -> Reply {
        Reply::new(status, Body::Json(value))
    }

    /// A 400 from the service itself.
    pub fn service(code: &'static str, msg: impl Into<String>) -> Reply {
        Reply::new(
            StatusCode::BAD_REQUEST,
            Body::Service {
                code,
                msg: msg.into(),
            },
        )
    }

    pub fn invalid(msg: impl Into<String>) -> Reply {
        Reply::service(code::INVALID_PARAMETER, msg)
    }

    pub fn gateway(status: StatusCode, code: &'static str, msg: impl Into<String>) -> Reply {
        Reply::new(
            status,
            Body::Gateway {
                code,
                msg: msg.into(),
            },
        )
    }

    pub fn unauthorized(msg: impl Into<String>) -> Reply {
        Reply::gateway(StatusCode::UNAUTHORIZED, code::UNAUTHORIZED, msg)
    }

    fn new(status: StatusCode, body: Body) -> Reply {
        Reply {
            status,
            body,
            subject_token: None,
        }
    }

    /// The error code, for the request log.
    pub fn error_code(&self) -> Option<&'static str> {
        match &self.body {
            Body::Service { code, .. } | Body::Gateway { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn render(self, request_id: String) -> Response {
        let text = match self.body {
            Body::Empty => None,
            Body::Json(value) => Some(value.to_string()),
            Body::Service { code, msg } => {
                Some(serde_json::json!({"error_code": code, "error_msg": msg}).to_string())
            }
            Body::Gateway { code, msg } => Some(
                serde_json::json!({"error_code": code, "error_msg": msg, "request_id": &request_id})
                    .to_string(),
            ),
        };
        let mut response = match text {
            Some(text) => {
                let mut response = Response::new(HttpBody::from(text));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json;charset=UTF-8"),
                );
                response
            }
            None => Response::new(HttpBody::empty()),
        };
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_maybe_shared(axum::body::Bytes::from(request_id)) {
            headers.insert("x-request-id", value);
        }
        if let Some(token) = self.subject_token
            && let Ok(value) = HeaderValue::from_str(&token)
        {
            headers.insert("x-subject-token", value);
        }
        response
    }
}
