//! The real service behind the executor's [`Service`]: one `api::Client` per project (projects
//! naming the same token source share one, so a source is resolved once per run).
//!
//! `api::Client` already authenticates and refreshes on a 401; everything else comes back here
//! as an [`Answer`] for the executor's retry policy.

use crate::api::{ApiError, Client, Reply};

use super::service::{Answer, Service};

/// Per project (by index): its id and the client to reach it.
pub struct Clients {
    pub projects: Vec<(String, Client)>,
}

impl Service for Clients {
    async fn delete(&self, project: usize, ids: &[u64]) -> Answer {
        let (id, client) = &self.projects[project];
        answer(client.batch_delete(id, ids).await)
    }

    async fn get(&self, project: usize, id: u64) -> Answer {
        let (project_id, client) = &self.projects[project];
        answer(client.get_issue(project_id, id).await)
    }
}

fn answer(result: Result<Reply, ApiError>) -> Answer {
    match result {
        Ok(reply) => Answer::Http {
            status: reply.status,
            error_code: reply.error_code,
            error_msg: reply.error_msg,
            request_id: reply.request_id,
            retry_after: reply.retry_after,
        },
        Err(ApiError::Transport { kind, message }) => Answer::Transport { kind, message },
        Err(e @ (ApiError::Unauthorized { .. } | ApiError::Auth(_))) => {
            Answer::Credentials(e.to_string())
        }
        Err(e) => Answer::Invalid(e.to_string()),
    }
}
