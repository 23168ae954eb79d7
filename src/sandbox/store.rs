//! The work items: which ids each project holds, which were deleted, and in what order.
//!
//! Everything is kept as ranges so that a project of ten million items, most of them deleted
//! in consecutive batches, costs a few entries: the seeded ids as sorted inclusive ranges, the
//! deleted ids as an interval map, and the deletion order as runs. Attributes are not stored
//! at all: `attrs` derives them from the seed and the id. The server holds the store behind
//! one mutex, taken briefly per request.

use std::collections::BTreeMap;

use super::{MissingIds, SandboxError};

/// All projects, by their 32-character id.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub projects: BTreeMap<String, Project>,
}

/// One CodeArts project of the sandbox.
#[derive(Debug)]
pub(crate) struct Project {
    /// 1-based position among the projects: the numeric id and name derive from it.
    pub number: u64,
    /// Sorted, merged, inclusive ranges of every id ever created.
    seeded: Vec<(u64, u64)>,
    seeded_total: u64,
    deleted: RangeSet,
    /// Deleted ids in deletion order, as runs of consecutive ids.
    order: Vec<(u64, u64)>,
}

impl Store {
    pub fn from_config(
        projects: &BTreeMap<String, Vec<(u64, u64)>>,
    ) -> Result<Store, SandboxError> {
        let mut store = Store::default();
        for (id, ranges) in projects {
            if !valid_project_id(id) {
                return Err(SandboxError::Config(format!(
                    "project id {id:?} is not 32 letters or digits"
                )));
            }
            store.add_project(id, ranges)?;
        }
        Ok(store)
    }

    /// Add ids to a project (created if new); ids already known keep their state.
    pub fn add_project(&mut self, id: &str, ranges: &[(u64, u64)]) -> Result<(), SandboxError> {
        for &(from, to) in ranges {
            if from > to {
                return Err(SandboxError::Config(format!(
                    "range {from}-{to} of project {id} is reversed"
                )));
            }
        }
        let number = self.projects.len() as u64 + 1;
        let project = self.projects.entry(id.to_string()).or_insert(Project {
            number,
            seeded: Vec::new(),
            seeded_total: 0,
            deleted: RangeSet::default(),
            order: Vec::new(),
        });
        project.seeded.extend_from_slice(ranges);
        project.seeded = merge(std::mem::take(&mut project.seeded));
        project.seeded_total = project.seeded.iter().map(|(a, b)| b - a + 1).sum();
        Ok(())
    }
}

/// `^[A-Za-z0-9]{32}$`, as the service validates project ids.
pub(crate) fn valid_project_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Project {
    /// Created and not deleted.
    pub fn exists(&self, id: u64) -> bool {
        self.was_seeded(id) && !self.deleted.contains(id)
    }

    pub fn was_seeded(&self, id: u64) -> bool {
        let i = self.seeded.partition_point(|&(_, to)| to < id);
        self.seeded.get(i).is_some_and(|&(from, _)| from <= id)
    }

    pub fn is_deleted(&self, id: u64) -> bool {
        self.deleted.contains(id)
    }

    /// Delete `ids`. With [`MissingIds::Reject`], any id that does not exist rejects the whole
    /// batch and nothing is deleted: the missing ids come back, sorted and distinct.
    pub fn delete(&mut self, ids: &[u64], missing: MissingIds) -> Result<(), Vec<u64>> {
        if missing == MissingIds::Reject {
            let mut absent: Vec<u64> = ids.iter().copied().filter(|&id| !self.exists(id)).collect();
            if !absent.is_empty() {
                absent.sort_unstable();
                absent.dedup();
                return Err(absent);
            }
        }
        for &id in ids {
            if self.exists(id) {
                self.deleted.insert(id);
                match self.order.last_mut() {
                    Some((_, last)) if *last + 1 == id => *last = id,
                    _ => self.order.push((id, id)),
                }
            }
        }
        Ok(())
    }

    pub fn remaining(&self) -> u64 {
        self.seeded_total - self.deleted.count
    }

    /// Every deleted id, in the order it was deleted.
    pub fn deleted_in_order(&self) -> Vec<u64> {
        self.order.iter().flat_map(|&(a, b)| a..=b).collect()
    }

    /// Every id ever created, ascending.
    pub fn seeded_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.seeded.iter().flat_map(|&(a, b)| a..=b)
    }

    pub fn seeded_ranges(&self) -> &[(u64, u64)] {
        &self.seeded
    }

    pub fn deleted_ranges(&self) -> Vec<(u64, u64)> {
        self.deleted.map.iter().map(|(&a, &b)| (a, b)).collect()
    }

    /// Restore deletions from a saved state (embedded mode); ids never seeded are ignored.
    pub fn restore_deleted(&mut self, ranges: &[(u64, u64)]) {
        for &(from, to) in ranges {
            for id in from..=to.max(from) {
                if self.exists(id) {
                    self.deleted.insert(id);
                    match self.order.last_mut() {
                        Some((_, last)) if *last + 1 == id => *last = id,
                        _ => self.order.push((id, id)),
                    }
                }
            }
        }
    }
}

/// Sort and merge overlapping or adjacent inclusive ranges.
fn merge(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (from, to) in ranges {
        match out.last_mut() {
            Some((_, last)) if from <= last.saturating_add(1) => *last = (*last).max(to),
            _ => out.push((from, to)),
        }
    }
    out
}

/// A set of ids as disjoint, non-adjacent inclusive intervals (start → end).
#[derive(Debug, Default)]
struct RangeSet {
    map: BTreeMap<u64, u64>,
    count: u64,
}

impl RangeSet {
    fn contains(&self, id: u64) -> bool {
        self.map
            .range(..=id)
            .next_back()
            .is_some_and(|(_, &end)| end >= id)
    }

    /// Insert an id not yet in the set, merging with its neighbours.
    fn insert(&mut self, id: u64) {
        debug_assert!(!self.contains(id));
        self.count += 1;
        let next_end = id.checked_add(1).and_then(|next| self.map.remove(&next));
        if let Some((_, end)) = self.map.range_mut(..id).next_back()
            && end.checked_add(1) == Some(id)
        {
            *end = next_end.unwrap_or(id);
            return;
        }
        self.map.insert(id, next_end.unwrap_or(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(ranges: &[(u64, u64)]) -> Project {
        let mut store = Store::default();
        store.add_project("p", ranges).unwrap();
        store.projects.remove("p").unwrap()
    }

    #[test]
    fn seeds_merge_and_count() {
        let p = project(&[(10, 20), (5, 9), (30, 30), (15, 25)]);
        assert_eq!(p.seeded_ranges(), &[(5, 25), (30, 30)]);
        assert_eq!(p.remaining(), 22);
        assert!(p.exists(5) && p.exists(25) && p.exists(30));
        assert!(!p.exists(4) && !p.exists(26) && !p.exists(31));
    }

    #[test]
    fn reject_mode_deletes_nothing_when_an_id_is_missing() {
        let mut p = project(&[(1, 10)]);
        assert_eq!(p.delete(&[3, 11, 4, 11], MissingIds::Reject), Err(vec![11]));
        assert_eq!(p.remaining(), 10);
        p.delete(&[3, 4], MissingIds::Reject).unwrap();
        assert_eq!(p.delete(&[4], MissingIds::Reject), Err(vec![4]));
        assert_eq!(p.remaining(), 8);
    }

    #[test]
    fn ignore_mode_skips_missing_and_duplicates() {
        let mut p = project(&[(1, 10)]);
        p.delete(&[7, 7, 42, 6], MissingIds::Ignore).unwrap();
        assert_eq!(p.deleted_in_order(), vec![7, 6]);
        assert_eq!(p.remaining(), 8);
    }

    #[test]
    fn deletion_keeps_ranges_compact_and_ordered() {
        let mut p = project(&[(1, 1000)]);
        let ids: Vec<u64> = (1..=1000).collect();
        for batch in ids.chunks(100).rev() {
            p.delete(batch, MissingIds::Reject).unwrap();
        }
        assert_eq!(p.deleted_ranges(), vec![(1, 1000)]);
        assert_eq!(p.remaining(), 0);
        assert_eq!(p.deleted_in_order()[..3], [901, 902, 903]);
        assert_eq!(p.order.len(), 10);
    }

    #[test]
    fn range_set_merges_both_sides() {
        let mut set = RangeSet::default();
        for id in [1, 3, 5, 2, 4] {
            set.insert(id);
        }
        assert_eq!(set.map.len(), 1);
        assert_eq!(set.count, 5);
        assert!(set.contains(1) && set.contains(5) && !set.contains(6) && !set.contains(0));
    }

    #[test]
    fn rejects_bad_project_ids() {
        let mut projects = BTreeMap::new();
        projects.insert("short".to_string(), vec![(1, 2)]);
        assert!(Store::from_config(&projects).is_err());
        assert!(valid_project_id("526cefde62004de2b62b5e8dd2c2b3af"));
    }
}
