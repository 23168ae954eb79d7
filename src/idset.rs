//! Sets of work-item ids: a sorted, de-duplicated `Vec<u64>`, and their compact range form.
//!
//! A million ids is 8 MB and sorts in tens of milliseconds, so a plain sorted vector beats any
//! cleverer structure here, and makes union, difference and chunking into batches trivial and
//! deterministic. `ranges()` gives the `1660100-1660199, 1660300` form that plans print.

use std::fmt;

/// A sorted set of distinct ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct IdSet(Vec<u64>);

impl IdSet {
    pub fn new() -> Self {
        IdSet(Vec::new())
    }

    /// From ids in any order, with duplicates.
    pub fn from_unsorted(mut ids: Vec<u64>) -> Self {
        ids.sort_unstable();
        ids.dedup();
        IdSet(ids)
    }

    /// From ids already sorted and distinct (checked in debug builds).
    pub fn from_sorted(ids: Vec<u64>) -> Self {
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]));
        IdSet(ids)
    }

    /// The inclusive range `from..=to`.
    pub fn from_range(from: u64, to: u64) -> Self {
        IdSet((from..=to).collect())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[u64] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<u64> {
        self.0
    }

    pub fn contains(&self, id: u64) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    /// Ids in either set.
    pub fn union(&self, other: &IdSet) -> IdSet {
        let (a, b) = (&self.0, &other.0);
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => {
                    out.push(a[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(b[j]);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    out.push(a[i]);
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        IdSet(out)
    }

    /// Ids in `self` and not in `other`.
    pub fn difference(&self, other: &IdSet) -> IdSet {
        IdSet(
            self.0
                .iter()
                .copied()
                .filter(|id| !other.contains(*id))
                .collect(),
        )
    }

    /// Ids in both sets.
    pub fn intersection(&self, other: &IdSet) -> IdSet {
        IdSet(
            self.0
                .iter()
                .copied()
                .filter(|id| other.contains(*id))
                .collect(),
        )
    }

    /// Maximal runs of consecutive ids, as inclusive `(first, last)` pairs.
    pub fn ranges(&self) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        for &id in &self.0 {
            match out.last_mut() {
                Some((_, last)) if *last + 1 == id => *last = id,
                _ => out.push((id, id)),
            }
        }
        out
    }

    /// Consecutive chunks of at most `size` ids, in id order: the batches of a plan.
    pub fn chunks(&self, size: usize) -> impl Iterator<Item = &[u64]> {
        self.0.chunks(size.max(1))
    }
}

impl FromIterator<u64> for IdSet {
    fn from_iter<T: IntoIterator<Item = u64>>(iter: T) -> Self {
        IdSet::from_unsorted(iter.into_iter().collect())
    }
}

/// Compact ranges: `1660100-1660199, 1660300`.
impl fmt::Display for IdSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, (first, last)) in self.ranges().into_iter().enumerate() {
            if n > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", RangeText(first, last))?;
        }
        Ok(())
    }
}

/// One inclusive range as people read it: `1660100-1660199`, or `7` for a single id.
pub struct RangeText(pub u64, pub u64);

impl fmt::Display for RangeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RangeText(first, last) if first == last => write!(f, "{first}"),
            RangeText(first, last) => write!(f, "{first}-{last}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_dedups_and_prints_ranges() {
        let set = IdSet::from_unsorted(vec![5, 3, 4, 4, 10, 1]);
        assert_eq!(set.as_slice(), &[1, 3, 4, 5, 10]);
        assert_eq!(set.to_string(), "1, 3-5, 10");
    }

    #[test]
    fn union_difference_intersection() {
        let a = IdSet::from_range(1, 5);
        let b = IdSet::from_unsorted(vec![4, 5, 6]);
        assert_eq!(a.union(&b).as_slice(), &[1, 2, 3, 4, 5, 6]);
        assert_eq!(a.difference(&b).as_slice(), &[1, 2, 3]);
        assert_eq!(a.intersection(&b).as_slice(), &[4, 5]);
    }

    #[test]
    fn chunks_respect_batch_size() {
        let set = IdSet::from_range(1, 250);
        let sizes: Vec<usize> = set.chunks(100).map(<[u64]>::len).collect();
        assert_eq!(sizes, vec![100, 100, 50]);
    }
}
