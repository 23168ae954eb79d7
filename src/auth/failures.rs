//! Failed-authentication counters shared by every source that uses the same AK.
//!
//! The gateway counts failed signatures per AK, not per job or token name, so two token
//! sources reading the same keys must count together: the counter lives in a process-wide
//! registry keyed by the AK (an identifier, not a secret).

use std::collections::HashMap;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, LazyLock, Mutex};

static BY_AK: LazyLock<Mutex<HashMap<String, Arc<AtomicU32>>>> = LazyLock::new(Default::default);

/// The counter of failures in a row for `ak`, created at zero on first use.
pub(super) fn for_ak(ak: &str) -> Arc<AtomicU32> {
    let mut map = BY_AK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    map.entry(ak.to_string()).or_default().clone()
}
