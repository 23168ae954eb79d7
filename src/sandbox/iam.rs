//! `POST /v3/auth/tokens`: IAM's password method, issuing tokens the `/v4` routes accept.
//!
//! As on the real IAM: 201 with the token in the `X-Subject-Token` header and the body
//! `{"token": {"expires_at", "issued_at", ...}}`; a wrong user or password is a 401 with IAM's
//! own error shape `{"error": {"code", "message", "title"}}`. Tokens live `token_ttl`; issuing
//! a new one does not revoke the old ones.

use std::time::SystemTime;

use axum::http::StatusCode;
use rand::Rng;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::reply::Reply;
use super::verify::Verifier;

pub(crate) fn serve(verifier: &Verifier, body: &[u8]) -> Reply {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
        );
    };
    let identity = &request["auth"]["identity"];
    let uses_password = identity["methods"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m == "password"));
    let user = &identity["password"]["user"];
    let (Some(name), Some(password), Some(domain)) = (
        user["name"].as_str(),
        user["password"].as_str(),
        user["domain"]["name"].as_str(),
    ) else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "The request you have made requires auth.identity.password.user name, password and domain name.",
        );
    };
    if !uses_password {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "Only the password method is supported.",
        );
    }
    let known = verifier.iam_users.iter().any(|u| {
        u.domain == domain
            && u.user == name
            && bool::from(u.password.expose().as_bytes().ct_eq(password.as_bytes()))
    });
    if !(known || verifier.open) {
        return iam_error(
            StatusCode::UNAUTHORIZED,
            "The username or password is wrong.",
        );
    }
    let token = format!(
        "MIIsandbox{:032x}{:032x}",
        rand::rng().random::<u128>(),
        rand::rng().random::<u128>()
    );
    verifier.issue(&token);
    let issued = SystemTime::now();
    let scope = &request["auth"]["scope"];
    let mut body = json!({
        "token": {
            "expires_at": iam_time(issued + verifier.token_ttl),
            "issued_at": iam_time(issued),
            "methods": ["password"],
            "catalog": [],
            "roles": [{"id": "0", "name": "te_admin"}],
            "user": {
                "domain": {"id": pseudo_id(domain), "name": domain},
                "id": pseudo_id(&format!("{domain}/{name}")),
                "name": name,
                "password_expires_at": "",
            },
        }
    });
    if let Some(project) = scope.get("project") {
        let name = project["name"].as_str().unwrap_or("cn-north-4");
        body["token"]["project"] = json!({
            "domain": {"id": pseudo_id(domain), "name": domain},
            "id": project["id"].as_str().map_or_else(|| pseudo_id(name), str::to_string),
            "name": name,
        });
    } else if let Some(scope_domain) = scope.get("domain") {
        body["token"]["domain"] = json!({
            "id": scope_domain["id"].as_str().map_or_else(|| pseudo_id(domain), str::to_string),
            "name": scope_domain["name"].as_str().unwrap_or(domain),
        });
    }
    let mut reply = Reply::json(StatusCode::CREATED, body);
    reply.subject_token = Some(token);
    reply
}

fn iam_error(status: StatusCode, message: &str) -> Reply {
    let title = if status == StatusCode::UNAUTHORIZED {
        "Unauthorized"
    } else {
        "Bad Request"
    };
    Reply::json(
        status,
        json!({"error": {"code": status.as_u16(), "message": message, "title": title}}),
    )
}

/// `2020-01-05T09:05:22.701000Z`.
fn iam_time(t: SystemTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::from(t)
        .format(format)
        .unwrap_or_default()
}

/// A stable 32-hex id derived from a name.
fn pseudo_id(name: &str) -> String {
    crate::auth::sign::hex_sha256(name.as_bytes())[..32].to_string()
}
