//! The state journal as the executor's [`Recorder`]: settled outcomes become journal records.
//!
//! `state::Journal` owns the format, the lock and durability; this only maps the executor's
//! vocabulary ([`Settled`]) to the journal's ([`Record`]). Pending ids are not recorded: a
//! batch journaled as sent and never settled stays in flight, and is sent again on resume.

use super::bisect::Settled;
use super::recorder::Recorder;
use crate::state::{Journal, Record, StateError};

impl Recorder for Journal {
    fn sent(&mut self, project: &str, ids: &[u64], attempt: u32) -> Result<(), StateError> {
        self.append(Record::BatchSent {
            project: project.to_string(),
            ids: ids.to_vec(),
            attempt,
        })
    }

    fn settled(&mut self, project: &str, settled: &Settled) -> Result<(), StateError> {
        let project = project.to_string();
        let record = match settled {
            Settled::Deleted { ids, request_id } => Record::BatchDeleted {
                project,
                ids: ids.clone(),
                request_id: request_id.clone(),
            },
            Settled::Absent { ids } => Record::Absent {
                project,
                ids: ids.clone(),
                request_id: None,
            },
            Settled::Rejected { id, rejection } => Record::Rejected {
                project,
                id: *id,
                error_code: rejection.error_code.clone(),
                error_msg: rejection.error_msg.clone(),
                request_id: rejection.request_id.clone(),
            },
            Settled::Failed { ids, reason } => Record::Failed {
                project,
                ids: ids.clone(),
                reason: reason.clone(),
            },
            Settled::Pending { .. } => return Ok(()),
        };
        self.append(record)
    }

    fn commit(&mut self) -> Result<(), StateError> {
        Journal::commit(self)
    }
}
