//! A set of non-overlapping ranges (numbers, or addresses of one family), answering "which
//! range holds this value" in O(log n) and using 32 bytes per number range.
//!
//! The ranges loaded at start sit in one sorted vector; ranges registered later go into a
//! small ordered map, and removed ones are remembered by id, until there are enough changes
//! to fold them into a new vector. Because registered ranges never overlap (the database
//! refuses it), the range holding `v` is the one with the greatest first value not above `v`,
//! if it reaches `v`: that holds across the vector and the map together, and a removed range
//! found as the vector's floor means no range of the vector holds `v` (every earlier one ends
//! before it began).

use std::collections::{BTreeMap, HashSet};

/// A range's key: a number, or an address of one family.
pub trait Key: Ord + Copy {
    /// How far a range's last value lies past its first, in as few bytes as its ranges need.
    type Span: Copy + Eq + std::fmt::Debug;
    fn span(first: Self, last: Self) -> Self::Span;
    fn end(first: Self, span: Self::Span) -> Self;
}

/// A number range holds at most [`crate::telephony::MAX_RANGE`] numbers, so four bytes carry
/// its length (a stored range longer than four billion numbers, which nothing writes, would be
/// cut short there).
impl Key for i64 {
    type Span = u32;
    fn span(first: i64, last: i64) -> u32 {
        u32::try_from(last.saturating_sub(first).max(0)).unwrap_or(u32::MAX)
    }
    fn end(first: i64, span: u32) -> i64 {
        first.saturating_add(i64::from(span))
    }
}

impl Key for (u8, u128) {
    type Span = u128;
    fn span(first: (u8, u128), last: (u8, u128)) -> u128 {
        last.1.saturating_sub(first.1)
    }
    fn end(first: (u8, u128), span: u128) -> (u8, u128) {
        (first.0, first.1.saturating_add(span))
    }
}

/// One range; the id is the stored UUID as two halves (keeps the entry 8-byte aligned): 32
/// bytes for a number range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<K: Key> {
    pub first: K,
    span: K::Span,
    pub site: u32,
    pub id: [u64; 2],
}

impl<K: Key> Entry<K> {
    pub fn new(first: K, last: K, site: u32, id: [u64; 2]) -> Self {
        Entry { first, span: K::span(first, last), site, id }
    }

    pub fn last(&self) -> K {
        K::end(self.first, self.span)
    }
}

pub fn id_halves(id: u128) -> [u64; 2] {
    [(id >> 64) as u64, id as u64]
}

/// Entries per block of the vector: a search first finds its block among the blocks' first
/// keys (a small array that stays in the CPU's cache), then its entry within the block (a few
/// cache lines), instead of some twenty cache misses across a vector of a million ranges.
const BLOCK: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub struct RangeSet<K: Key> {
    base: Vec<Entry<K>>,
    /// The first key of every `BLOCK`-th entry of `base`.
    blocks: Vec<K>,
    added: BTreeMap<K, Entry<K>>,
    removed: HashSet<[u64; 2]>,
}

impl<K: Key> Default for RangeSet<K> {
    fn default() -> Self {
        RangeSet {
            base: Vec::new(),
            blocks: Vec::new(),
            added: BTreeMap::new(),
            removed: HashSet::new(),
        }
    }
}

impl<K: Key> RangeSet<K> {
    /// Room for `n` ranges before loading (so the vector is never copied as it grows).
    pub fn reserve(&mut self, n: usize) {
        self.base.reserve_exact(n);
    }

    /// Adds a range while loading (call [`RangeSet::finish_load`] after the last).
    pub fn load(&mut self, e: Entry<K>) {
        self.base.push(e);
    }

    pub fn finish_load(&mut self) {
        self.base.sort_unstable_by_key(|e| e.first);
        self.index_blocks();
    }

    fn index_blocks(&mut self) {
        self.blocks = self.base.iter().step_by(BLOCK).map(|e| e.first).collect();
        self.blocks.shrink_to_fit();
    }

    fn base_floor(&self, v: K) -> Option<&Entry<K>> {
        if self.blocks.len() != self.base.len().div_ceil(BLOCK) {
            // Still loading (blocks are indexed by `finish_load`): search the whole vector.
            let i = self.base.partition_point(|e| e.first <= v);
            return i.checked_sub(1).map(|i| &self.base[i]);
        }
        // The block whose first key is the greatest not above v holds the floor, if any does.
        let block = self.blocks.partition_point(|k| *k <= v).checked_sub(1)?;
        let start = block * BLOCK;
        let within = &self.base[start..(start + BLOCK).min(self.base.len())];
        let i = within.partition_point(|e| e.first <= v);
        i.checked_sub(1).map(|i| &within[i])
    }

    /// The range holding `v`, if any.
    pub fn holding(&self, v: K) -> Option<&Entry<K>> {
        let from_base =
            self.base_floor(v).filter(|e| self.removed.is_empty() || !self.removed.contains(&e.id));
        let from_added = self.added.range(..=v).next_back().map(|(_, e)| e);
        let floor = match (from_base, from_added) {
            (Some(b), Some(a)) => {
                if a.first > b.first {
                    a
                } else {
                    b
                }
            }
            (Some(b), None) => b,
            (None, Some(a)) => a,
            (None, None) => return None,
        };
        (floor.last() >= v).then_some(floor)
    }

    /// Puts a registered range (ranges are never edited; putting one already kept is a no-op).
    pub fn insert(&mut self, e: Entry<K>) {
        if self.base_floor(e.first).is_some_and(|b| b.id == e.id && b.first == e.first)
            && !self.removed.contains(&e.id)
        {
            return;
        }
        self.added.insert(e.first, e);
        self.maybe_fold();
    }

    /// Removes the range with this id, if kept (a scan of the vector: removals are rare).
    pub fn remove(&mut self, id: [u64; 2]) {
        if let Some(first) = self.added.values().find(|e| e.id == id).map(|e| e.first) {
            self.added.remove(&first);
        }
        if self.base.iter().any(|e| e.id == id) {
            self.removed.insert(id);
        }
        self.maybe_fold();
    }

    /// Drops every range of `site`.
    pub fn remove_site(&mut self, site: u32) {
        let ids: Vec<[u64; 2]> = self.iter().filter(|e| e.site == site).map(|e| e.id).collect();
        for id in ids {
            self.remove(id);
        }
    }

    /// Every range kept, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry<K>> {
        self.base.iter().filter(|e| !self.removed.contains(&e.id)).chain(self.added.values())
    }

    pub fn len(&self) -> usize {
        self.base.len() - self.removed.len() + self.added.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Folds the changes into a new sorted vector once they are a sixteenth of it.
    fn maybe_fold(&mut self) {
        if self.added.len() + self.removed.len() <= (self.base.len() / 16).max(4_096) {
            return;
        }
        let mut base: Vec<Entry<K>> = Vec::with_capacity(self.len());
        base.extend(self.base.iter().filter(|e| !self.removed.contains(&e.id)));
        base.extend(self.added.values());
        base.sort_unstable_by_key(|e| e.first);
        self.base = base;
        self.index_blocks();
        self.added.clear();
        self.removed.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(first: i64, last: i64, id: u64) -> Entry<i64> {
        Entry::new(first, last, id as u32, [0, id])
    }

    /// The range holding v, found the slow way.
    fn naive(ranges: &[Entry<i64>], v: i64) -> Option<u32> {
        ranges.iter().find(|r| r.first <= v && v <= r.last()).map(|r| r.site)
    }

    #[test]
    fn agrees_with_a_scan_through_loads_inserts_removals_and_folds() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(12);
        let mut set = RangeSet::default();
        let mut live: Vec<Entry<i64>> = Vec::new();
        let mut next_id = 1;
        // Load disjoint ranges on a grid, then churn: removals and new disjoint ranges.
        for k in 0..2_000 {
            if rng.gen_bool(0.7) {
                let first = k * 100 + rng.gen_range(0..50);
                let r = e(first, first + rng.gen_range(0..40), next_id);
                next_id += 1;
                set.load(r);
                live.push(r);
            }
        }
        set.finish_load();
        for round in 0..20_000 {
            if rng.gen_bool(0.5) && !live.is_empty() {
                let r = live.swap_remove(rng.gen_range(0..live.len()));
                set.remove(r.id);
            } else {
                let first = rng.gen_range(0..200_000);
                let last = first + rng.gen_range(0..60);
                if live.iter().all(|r| last < r.first || first > r.last()) {
                    let r = e(first, last, next_id);
                    next_id += 1;
                    set.insert(r);
                    live.push(r);
                }
            }
            if round % 500 == 0 {
                for _ in 0..200 {
                    let v = rng.gen_range(-10..200_100);
                    assert_eq!(set.holding(v).map(|r| r.site), naive(&live, v), "value {v}");
                }
                assert_eq!(set.len(), live.len());
            }
        }
    }

    #[test]
    fn a_number_range_takes_32_bytes_and_keeps_its_ends() {
        assert_eq!(std::mem::size_of::<Entry<i64>>(), 32);
        let r = e(922_134_567_000, 922_134_667_000, 1);
        assert_eq!((r.first, r.last()), (922_134_567_000, 922_134_667_000));
        let ip = Entry::new((6, 1 << 100), (6, u128::MAX), 1, [0, 1]);
        assert_eq!(ip.last(), (6, u128::MAX));
    }

    #[test]
    fn inserting_a_loaded_range_again_changes_nothing() {
        let mut set = RangeSet::default();
        set.load(e(10, 20, 1));
        set.finish_load();
        set.insert(e(10, 20, 1));
        assert_eq!(set.len(), 1);
        set.remove([0, 1]);
        assert!(set.holding(15).is_none());
        set.insert(e(12, 30, 2));
        assert_eq!(set.holding(15).map(|r| r.site), Some(2));
        assert!(set.holding(11).is_none());
    }
}
