//! The CodeArts Req routes: which paths exist, and what each does to the work items.
//!
//! [`Route::parse`] decides whether a method and path are an API at all (anything else is the
//! gateway's 404 `APIGW.0101`); [`serve`] runs an authenticated request against the store
//! with the service's validation: project id format and existence, `issue_ids` shape, the
//! Content-Type, and `--missing-ids` for ids that do not exist.

use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use serde::Deserialize;

use super::MissingIds;
use super::attrs;
use super::projects;
use super::query::Query;
use super::reply::{Reply, code};
use super::server::App;
use super::store::{Store, valid_project_id};

/// The APIs the sandbox serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    BatchDelete { project: &'a str },
    Query { project: &'a str },
    List { project: &'a str },
    GetIssue { project: &'a str, issue: &'a str },
    DeleteIssue { project: &'a str, issue: &'a str },
    Projects,
    IamTokens,
}

impl<'a> Route<'a> {
    pub fn parse(method: &Method, path: &'a str) -> Option<Route<'a>> {
        let mut segments = path.strip_prefix('/')?.split('/');
        let parts: [Option<&str>; 6] = std::array::from_fn(|_| segments.next());
        if segments.next().is_some() {
            return None;
        }
        let route = match (parts, method) {
            ([Some("v3"), Some("auth"), Some("tokens"), None, ..], &Method::POST) => {
                Route::IamTokens
            }
            ([Some("v4"), Some("projects"), None, ..], &Method::GET) => Route::Projects,
            (
                [
                    Some("v4"),
                    Some("projects"),
                    Some(project),
                    Some("issues"),
                    None,
                    _,
                ],
                m,
            ) => match *m {
                Method::DELETE => Route::BatchDelete { project },
                Method::POST => Route::Query { project },
                Method::GET => Route::List { project },
                _ => return None,
            },
            (
                [
                    Some("v4"),
                    Some("projects"),
                    Some(project),
                    Some("issues"),
                    Some(issue),
                    None,
                ],
                m,
            ) => match *m {
                Method::GET => Route::GetIssue { project, issue },
                Method::DELETE => Route::DeleteIssue { project, issue },
                _ => return None,
            },
            _ => return None,
        };
        Some(route)
    }
}

#[derive(Deserialize)]
struct BatchBody {
    issue_ids: Vec<u64>,
}

/// Ids have 1 to 10 digits.
const MAX_ID: u64 = 9_999_999_999;
const MAX_BATCH: usize = 100;

/// The work-item ids a request names (batch body or path), when it is well-formed enough to
/// name any: parsed once, before the pipeline, so the log has them whatever happens next.
pub(crate) fn named_ids(route: Route<'_>, body: &[u8]) -> Option<Vec<u64>> {
    match route {
        Route::BatchDelete { .. } => serde_json::from_slice::<BatchBody>(body)
            .ok()
            .map(|b| b.issue_ids),
        Route::DeleteIssue { issue, .. } | Route::GetIssue { issue, .. } => {
            issue_id(issue).map(|id| vec![id])
        }
        _ => None,
    }
}

/// Serve an authenticated `/v4` request; `ids` are its [`named_ids`].
pub(crate) fn serve(
    app: &App,
    route: Route<'_>,
    parts: &Parts,
    ids: Option<&[u64]>,
    body: &[u8],
) -> Reply {
    match route {
        Route::Projects => projects::list(app, parts.uri.query().unwrap_or("")),
        Route::BatchDelete { project } => {
            if let Err(reply) = json_content_type(parts) {
                return reply;
            }
            let Some(ids) = ids else {
                return Reply::invalid("issue_ids must be an array of work item ids");
            };
            if ids.is_empty() || ids.len() > MAX_BATCH {
                return Reply::invalid(format!(
                    "issue_ids must hold 1 to {MAX_BATCH} work item ids"
                ));
            }
            if ids.iter().any(|&id| id > MAX_ID) {
                return Reply::invalid("a work item id has 1 to 10 digits");
            }
            with_project(app, project, |store| {
                delete(app.missing_ids, store, project, ids)
            })
        }
        Route::DeleteIssue { project, .. } | Route::GetIssue { project, .. } => {
            let Some(&[id]) = ids else {
                return Reply::invalid("issue_id must be an integer of 1 to 10 digits");
            };
            if matches!(route, Route::DeleteIssue { .. }) {
                with_project(app, project, |store| {
                    delete(app.missing_ids, store, project, &[id])
                })
            } else {
                with_project(app, project, |store| {
                    let p = &store.projects[project];
                    if !p.exists(id) {
                        return missing(&[id]);
                    }
                    let a = attrs::attrs(app.seed, id);
                    let project_json = attrs::project_json(project, p.number);
                    Reply::json(
                        StatusCode::OK,
                        attrs::issue_json(&project_json, id, &a, false),
                    )
                })
            }
        }
        Route::Query { project } => {
            if !body.is_empty()
                && let Err(reply) = json_content_type(parts)
            {
                return reply;
            }
            match Query::from_body(body) {
                Ok(query) => with_project(app, project, |store| {
                    Reply::json(
                        StatusCode::OK,
                        query.run(project, &store.projects[project], app.seed),
                    )
                }),
                Err(reply) => reply,
            }
        }
        Route::List { project } => match Query::from_params(parts.uri.query().unwrap_or("")) {
            Ok(query) => with_project(app, project, |store| {
                Reply::json(
                    StatusCode::OK,
                    query.run(project, &store.projects[project], app.seed),
                )
            }),
            Err(reply) => reply,
        },
        Route::IamTokens => unreachable!("the IAM route is served by iam::serve"),
    }
}

/// Run `f` with the store locked, once the project id is valid and known.
fn with_project(app: &App, project: &str, f: impl FnOnce(&mut Store) -> Reply) -> Reply {
    if !valid_project_id(project) {
        return Reply::invalid("project_id must be 32 letters or digits");
    }
    let mut store = app.store.lock().unwrap_or_else(|e| e.into_inner());
    if !store.projects.contains_key(project) {
        return Reply::service(
            code::NO_PROJECT,
            "The project does not exist or has been deleted.",
        );
    }
    f(&mut store)
}

fn delete(policy: MissingIds, store: &mut Store, project: &str, ids: &[u64]) -> Reply {
    let p = store
        .projects
        .get_mut(project)
        .expect("checked by with_project");
    match p.delete(ids, policy) {
        Ok(()) => Reply::no_content(),
        Err(absent) => missing(&absent),
    }
}

/// The answer for ids that do not exist (never created, or already deleted).
fn missing(ids: &[u64]) -> Reply {
    let shown: Vec<String> = ids.iter().take(10).map(u64::to_string).collect();
    let more = if ids.len() > 10 { ", ..." } else { "" };
    Reply::invalid(format!(
        "Invalid parameter: work items do not exist or have been deleted: {}{more}",
        shown.join(", ")
    ))
}

fn issue_id(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `application/json`, optionally with a `charset=utf-8` (any case) parameter.
fn json_content_type(parts: &Parts) -> Result<(), Reply> {
    let value = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut pieces = value.split(';').map(str::trim);
    let media = pieces.next().unwrap_or("");
    let params_ok = pieces.all(|p| p.is_empty() || p.eq_ignore_ascii_case("charset=utf-8"));
    if media.eq_ignore_ascii_case("application/json") && params_ok {
        Ok(())
    } else {
        Err(Reply::invalid("Content-Type must be application/json"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_the_documented_routes() {
        let p = "526cefde62004de2b62b5e8dd2c2b3af";
        let issues = format!("/v4/projects/{p}/issues");
        assert_eq!(
            Route::parse(&Method::DELETE, &issues),
            Some(Route::BatchDelete { project: p })
        );
        assert_eq!(
            Route::parse(&Method::POST, &issues),
            Some(Route::Query { project: p })
        );
        assert_eq!(
            Route::parse(&Method::GET, &issues),
            Some(Route::List { project: p })
        );
        let one = format!("{issues}/42");
        assert_eq!(
            Route::parse(&Method::GET, &one),
            Some(Route::GetIssue {
                project: p,
                issue: "42"
            })
        );
        assert_eq!(
            Route::parse(&Method::DELETE, &one),
            Some(Route::DeleteIssue {
                project: p,
                issue: "42"
            })
        );
        assert_eq!(
            Route::parse(&Method::GET, "/v4/projects"),
            Some(Route::Projects)
        );
        assert_eq!(
            Route::parse(&Method::POST, "/v3/auth/tokens"),
            Some(Route::IamTokens)
        );
        for (method, path) in [
            (Method::PUT, issues.as_str()),
            (Method::POST, one.as_str()),
            (Method::GET, "/"),
            (Method::GET, "/v4/projects/"),
            (Method::GET, "/v3/auth/tokens"),
            (Method::GET, "/v4/projects/x/issues/1/comments"),
            (Method::GET, "/v4/projects/x/issues/1/a/b/c"),
        ] {
            assert_eq!(Route::parse(&method, path), None, "{method} {path}");
        }
    }

    #[test]
    fn checks_issue_ids_in_paths() {
        assert_eq!(issue_id("1660084"), Some(1660084));
        assert_eq!(issue_id("9999999999"), Some(9_999_999_999));
        for bad in ["", "12345678901", "-1", "1a", "+1"] {
            assert_eq!(issue_id(bad), None, "{bad}");
        }
    }
}
