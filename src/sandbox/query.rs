//! The work-item queries: `POST /v4/projects/{id}/issues` (advanced query, `ListIssuesV4`)
//! and the simple `GET` list, with the service's paging rules.
//!
//! Items come in ascending id order so paging is stable; deletions shift later pages, as on
//! the real service. Filters: `tracker_ids`, `status_ids`, `issue_ids`, the three
//! `*_time_interval`s (`"startMs,endMs"`, either end may be empty) and `include_deleted`;
//! the other documented filters are accepted and ignored.

use serde::Deserialize;
use serde_json::{Value, json};

use super::attrs::{self, Attrs};
use super::reply::{Reply, code};
use super::store::Project;

/// The advanced query's body (every field optional).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct QueryBody {
    offset: Option<i64>,
    limit: Option<i64>,
    tracker_ids: Option<Vec<u64>>,
    status_ids: Option<Vec<u64>>,
    issue_ids: Option<Vec<u64>>,
    created_time_interval: Option<String>,
    updated_time_interval: Option<String>,
    closed_time_interval: Option<String>,
    include_deleted: Option<bool>,
}

/// A checked query.
#[derive(Debug, Default)]
pub(crate) struct Query {
    offset: u64,
    limit: u64,
    trackers: Option<Vec<u64>>,
    statuses: Option<Vec<u64>>,
    ids: Option<Vec<u64>>,
    created: Option<Interval>,
    updated: Option<Interval>,
    closed: Option<Interval>,
    include_deleted: bool,
}

/// Inclusive bounds in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Interval(Option<i64>, Option<i64>);

impl Interval {
    fn parse(text: &str) -> Result<Interval, Reply> {
        let bad = || {
            Reply::invalid(format!(
                "invalid time interval {text:?}: expected \"startMs,endMs\""
            ))
        };
        let (start, end) = text.split_once(',').ok_or_else(bad)?;
        let bound = |s: &str| -> Result<Option<i64>, Reply> {
            let s = s.trim();
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse().map(Some).map_err(|_| bad())
            }
        };
        Ok(Interval(bound(start)?, bound(end)?))
    }

    fn contains(&self, ms: i64) -> bool {
        self.0.is_none_or(|s| ms >= s) && self.1.is_none_or(|e| ms <= e)
    }
}

/// A query string's `key=value` pairs, percent-decoded, in their order.
pub(crate) fn decode_pairs(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// An integer query parameter.
pub(crate) fn int_param(key: &str, value: &str) -> Result<i64, Reply> {
    value
        .parse()
        .map_err(|_| Reply::invalid(format!("{key} must be an integer")))
}

/// Check `offset`/`limit` as the service does: limit 1..=max, offset a multiple of limit.
pub(crate) fn paging(
    offset: Option<i64>,
    limit: Option<i64>,
    default_limit: i64,
    max: i64,
) -> Result<(u64, u64), Reply> {
    let limit = limit.unwrap_or(default_limit);
    let offset = offset.unwrap_or(0);
    if !(1..=max).contains(&limit) {
        return Err(Reply::invalid(format!("limit must be between 1 and {max}")));
    }
    if offset < 0 || offset % limit != 0 {
        return Err(Reply::service(
            code::PAGINATION,
            "Pagination parameter error: offset must be a multiple of limit",
        ));
    }
    Ok((offset as u64, limit as u64))
}

impl Query {
    pub fn from_body(body: &[u8]) -> Result<Query, Reply> {
        let body: QueryBody = if body.iter().all(u8::is_ascii_whitespace) {
            QueryBody::default()
        } else {
            serde_json::from_slice(body)
                .map_err(|e| Reply::invalid(format!("invalid request body: {e}")))?
        };
        let (offset, limit) = paging(body.offset, body.limit, 20, 100)?;
        let interval = |t: &Option<String>| t.as_deref().map(Interval::parse).transpose();
        Ok(Query {
            offset,
            limit,
            trackers: body.tracker_ids,
            statuses: body.status_ids,
            ids: body.issue_ids,
            created: interval(&body.created_time_interval)?,
            updated: interval(&body.updated_time_interval)?,
            closed: interval(&body.closed_time_interval)?,
            include_deleted: body.include_deleted.unwrap_or(false),
        })
    }

    /// The simple list's query string: `offset`, `limit`, `tracker_id`, `created_time_interval`,
    /// `updated_time_interval`.
    pub fn from_params(query: &str) -> Result<Query, Reply> {
        let mut offset = None;
        let mut limit = None;
        let mut q = Query::default();
        for (key, value) in decode_pairs(query) {
            match key.as_str() {
                "offset" => offset = Some(int_param(&key, &value)?),
                "limit" => limit = Some(int_param(&key, &value)?),
                "tracker_id" => q.trackers = Some(vec![int_param(&key, &value)? as u64]),
                "created_time_interval" => q.created = Some(Interval::parse(&value)?),
                "updated_time_interval" => q.updated = Some(Interval::parse(&value)?),
                _ => {}
            }
        }
        (q.offset, q.limit) = paging(offset, limit, 20, 100)?;
        Ok(q)
    }

    fn matches(&self, id: u64, a: &Attrs) -> bool {
        let within = |set: &Option<Vec<u64>>, v: u64| {
            set.as_ref().is_none_or(|s| s.is_empty() || s.contains(&v))
        };
        within(&self.trackers, a.tracker.0)
            && within(&self.statuses, a.status.0)
            && within(&self.ids, id)
            && self.created.is_none_or(|i| i.contains(a.created_ms))
            && self.updated.is_none_or(|i| i.contains(a.updated_ms))
            && self
                .closed
                .is_none_or(|i| a.closed_ms.is_some_and(|ms| i.contains(ms)))
    }

    /// `{"issues": [...], "total": n}` for `project`.
    pub fn run(&self, project_id: &str, project: &Project, seed: u64) -> Value {
        let project_json = attrs::project_json(project_id, project.number);
        let mut total = 0u64;
        let mut issues = Vec::new();
        let candidates: Box<dyn Iterator<Item = u64>> = match &self.ids {
            Some(ids) if !ids.is_empty() => {
                let mut ids = ids.clone();
                ids.sort_unstable();
                ids.dedup();
                Box::new(ids.into_iter().filter(|&id| project.was_seeded(id)))
            }
            _ => Box::new(project.seeded_ids()),
        };
        for id in candidates {
            let deleted = project.is_deleted(id);
            if deleted && !self.include_deleted {
                continue;
            }
            let a = attrs::attrs(seed, id);
            if !self.matches(id, &a) {
                continue;
            }
            if total >= self.offset && (issues.len() as u64) < self.limit {
                issues.push(attrs::issue_json(&project_json, id, &a, deleted));
            }
            total += 1;
        }
        json!({"issues": issues, "total": total})
    }
}
