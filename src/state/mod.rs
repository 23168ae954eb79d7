//! The state: an append-only journal per job, its lock, and what it says is done.

use std::collections::BTreeMap;

use crate::idset::IdSet;

/// What the planner needs to know of a job's state: ids already done, and the state's position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateView {
    /// Random id created with the state; `None` when there is no state yet.
    pub lineage: Option<String>,
    /// Records in the journal so far: a saved plan is stale when the state moved past it.
    pub sequence: u64,
    /// Per project id: ids recorded deleted or absent.
    pub done: BTreeMap<String, IdSet>,
}

/// Failures reading or writing the state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state is locked by another run: {0}")]
    Locked(String),
}

impl StateError {
    pub fn is_locked(&self) -> bool {
        matches!(self, StateError::Locked(_))
    }
}
