//! `GET /v4/projects`: the project list, paged as the service pages it.
//!
//! `limit` 1-1000 (default 10), `offset` a multiple of `limit`, `search` on the name; the
//! other documented parameters (`project_type`, `query_type`) are accepted and ignored, as
//! every sandbox project is a Scrum project.

use axum::http::StatusCode;
use serde_json::json;

use super::attrs;
use super::query::{decode_pairs, int_param, paging};
use super::reply::Reply;
use super::server::App;

/// `GET /v4/projects`: paged, with `search` on the name.
pub(crate) fn list(app: &App, query: &str) -> Reply {
    let mut offset = None;
    let mut limit = None;
    let mut search = String::new();
    for (key, value) in decode_pairs(query) {
        match key.as_str() {
            "offset" => offset = Some(int_param(&key, &value)),
            "limit" => limit = Some(int_param(&key, &value)),
            "search" => search = value.to_lowercase(),
            _ => {}
        }
    }
    let (offset, limit) = match (offset.transpose(), limit.transpose()) {
        (Ok(offset), Ok(limit)) => (offset, limit),
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    let (offset, limit) = match paging(offset, limit, 10, 1000) {
        Ok(paging) => paging,
        Err(reply) => return reply,
    };
    let store = app.store.lock().unwrap_or_else(|e| e.into_inner());
    let matching: Vec<_> = store
        .projects
        .iter()
        .map(|(id, p)| {
            let mut json = attrs::project_json(id, p.number);
            json["project_type"] = json!("scrum");
            json["created_time"] = json!(1_704_067_200_000u64 + p.number * 86_400_000);
            json["creator"] = json!({"user_num_id": 4000, "user_id": "0".repeat(32), "user_name": "user0", "domain_id": "0".repeat(32), "domain_name": "sandbox", "nick_name": "User 0"});
            json
        })
        .filter(|p| search.is_empty() || p["project_name"].as_str().is_some_and(|n| n.to_lowercase().contains(&search)))
        .collect();
    let total = matching.len();
    let page: Vec<_> = matching
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    Reply::json(StatusCode::OK, json!({"projects": page, "total": total}))
}
