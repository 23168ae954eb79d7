//! Deterministic attributes of a work item, derived from `--seed` and its id, and its JSON.
//!
//! Nothing is stored per item: tracker, status, priority, severity and the created, updated
//! and closed times are a hash of (seed, id), so a project of millions of items costs nothing
//! and the query API still has something realistic to filter on. The JSON mirrors the fields
//! the contract lists for an issue (`IssueResponseV4` in the official SDK).

use serde_json::{Value, json};

/// Trackers: 2 Task, 3 Bug, 5 Epic, 6 Feature, 7 Story.
const TRACKERS: [(u64, &str); 5] = [
    (2, "Task"),
    (3, "Bug"),
    (5, "Epic"),
    (6, "Feature"),
    (7, "Story"),
];
/// Statuses: 1 new ... 6 rejected.
const STATUSES: [(u64, &str); 6] = [
    (1, "New"),
    (2, "In Progress"),
    (3, "Resolved"),
    (4, "Testing"),
    (5, "Closed"),
    (6, "Rejected"),
];
const PRIORITIES: [(u64, &str); 3] = [(1, "Low"), (2, "Medium"), (3, "High")];
const SEVERITIES: [(u64, &str); 4] = [
    (11, "Critical"),
    (12, "Major"),
    (13, "Minor"),
    (14, "Suggestion"),
];

/// 2024-01-01T00:00:00Z: items are created within the following year.
const EPOCH_MS: i64 = 1_704_067_200_000;
const YEAR_MS: u64 = 365 * 86_400_000;
const SIXTY_DAYS_MS: u64 = 60 * 86_400_000;

/// What the query API filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attrs {
    pub tracker: (u64, &'static str),
    pub status: (u64, &'static str),
    pub priority: (u64, &'static str),
    pub severity: (u64, &'static str),
    pub created_ms: i64,
    pub updated_ms: i64,
    /// Set for closed items only.
    pub closed_ms: Option<i64>,
}

/// SplitMix64's finaliser: a cheap, well-mixed hash of a 64-bit value.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub(crate) fn attrs(seed: u64, id: u64) -> Attrs {
    let h1 = mix(seed ^ mix(id));
    let h2 = mix(h1);
    let created_ms = EPOCH_MS + (h1 % YEAR_MS) as i64;
    let updated_ms = created_ms + (h2 % SIXTY_DAYS_MS) as i64;
    let status = STATUSES[(h2 >> 40) as usize % STATUSES.len()];
    Attrs {
        tracker: TRACKERS[(h1 >> 40) as usize % TRACKERS.len()],
        status,
        priority: PRIORITIES[(h1 >> 50) as usize % PRIORITIES.len()],
        severity: SEVERITIES[(h2 >> 50) as usize % SEVERITIES.len()],
        created_ms,
        updated_ms,
        closed_ms: (status.0 == 5).then_some(updated_ms),
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC), the service's time format.
pub(crate) fn format_ms(ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

/// The project part of an issue and of the project list.
pub(crate) fn project_json(project_id: &str, number: u64) -> Value {
    json!({
        "project_id": project_id,
        "project_name": format!("Sandbox project {number}"),
        "project_num_id": 1_000_000 + number,
    })
}

fn user(n: u64) -> Value {
    json!({
        "id": 4_000 + n,
        "user_id": format!("{:016x}{:016x}", mix(n), mix(!n)),
        "name": format!("user{n}"),
        "nick_name": format!("User {n}"),
    })
}

/// An issue as the query and detail routes return it.
pub(crate) fn issue_json(project: &Value, id: u64, a: &Attrs, deleted: bool) -> Value {
    let people = mix(id) % 5;
    json!({
        "id": id,
        "name": format!("{} {id}", a.tracker.1),
        "tracker": {"id": a.tracker.0, "name": a.tracker.1},
        "status": {"id": a.status.0, "name": a.status.1},
        "priority": {"id": a.priority.0, "name": a.priority.1},
        "severity": {"id": a.severity.0, "name": a.severity.1},
        "project": project,
        "creator": user(people),
        "assigned_user": user((people + 1) % 5),
        "developer": user((people + 2) % 5),
        "created_time": format_ms(a.created_ms),
        "updated_time": format_ms(a.updated_ms),
        "closed_time": a.closed_ms.map(format_ms).unwrap_or_default(),
        "begin_time": "",
        "end_time": "",
        "done_ratio": if a.status.0 == 5 { 100 } else { 0 },
        "expected_work_hours": 0.0,
        "actual_work_hours": 0.0,
        "deleted": deleted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_deterministic_and_seed_dependent() {
        assert_eq!(attrs(7, 1234), attrs(7, 1234));
        let differ = (1..50).filter(|&id| attrs(1, id) != attrs(2, id)).count();
        assert!(differ > 40);
        let a = attrs(0, 42);
        assert!(a.updated_ms >= a.created_ms);
        assert_eq!(a.closed_ms.is_some(), a.status.0 == 5);
    }

    #[test]
    fn every_tracker_and_status_occurs() {
        let all: Vec<Attrs> = (1..=500).map(|id| attrs(0, id)).collect();
        for (tracker, _) in TRACKERS {
            assert!(all.iter().any(|a| a.tracker.0 == tracker));
        }
        for (status, _) in STATUSES {
            assert!(all.iter().any(|a| a.status.0 == status));
        }
    }

    #[test]
    fn formats_service_times() {
        assert_eq!(format_ms(EPOCH_MS), "2024-01-01 00:00:00");
    }
}
