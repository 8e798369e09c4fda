//! A bounded table of expiring entries: at most `cap` entries, expired ones pruned a few at a
//! time on every insert (never a full scan under the store lock), and the least recently
//! stamped entry evicted when the table is full.
//!
//! Entries are kept in a queue in stamp order beside the map. Removing or re-stamping an entry
//! leaves its old queue slot behind; such stale slots are skipped when reached and compacted
//! away once they outnumber the live entries, so the queue stays within a constant factor of
//! the map.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// Queue slots examined per insert while pruning: enough to keep up with any insert rate
/// (each insert adds one slot), small enough that the lock is held for microseconds.
const PRUNE_STEP: usize = 32;

struct Slot<V> {
    value: V,
    stamp: u64,
    expires_at: i64,
}

pub struct Table<K, V> {
    map: HashMap<K, Slot<V>>,
    order: VecDeque<(K, u64)>,
    next_stamp: u64,
    cap: usize,
    /// Expired entries stay this many seconds past their expiry before they are pruned, so
    /// that a late presentation is answered "expired" rather than "unknown".
    grace: i64,
}

impl<K: Hash + Eq + Clone, V> Table<K, V> {
    pub fn new(cap: usize, grace: i64) -> Self {
        Table {
            map: HashMap::new(),
            order: VecDeque::new(),
            next_stamp: 0,
            cap: cap.max(1),
            grace,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Inserts (or replaces) an entry, first pruning a few expired ones and, when the table is
    /// full, evicting the least recently stamped.
    pub fn insert(&mut self, key: K, value: V, expires_at: i64, now: i64) {
        self.prune(now);
        if !self.map.contains_key(&key) {
            while self.map.len() >= self.cap {
                if !self.evict_oldest() {
                    break;
                }
            }
        }
        let stamp = self.stamp(key.clone());
        let replaced = self.map.insert(
            key,
            Slot {
                value,
                stamp,
                expires_at,
            },
        );
        if replaced.is_some() {
            self.compact_if_sparse();
        }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key).map(|s| &s.value)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key).map(|s| &mut s.value)
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let v = self.map.remove(key).map(|s| s.value);
        self.compact_if_sparse();
        v
    }

    /// Marks an entry as just used (LRU) and moves its expiry; false if absent.
    pub fn touch(&mut self, key: &K, expires_at: i64) -> bool {
        if !self.map.contains_key(key) {
            return false;
        }
        let stamp = self.stamp(key.clone());
        if let Some(slot) = self.map.get_mut(key) {
            slot.stamp = stamp;
            slot.expires_at = expires_at;
        }
        self.compact_if_sparse();
        true
    }

    fn stamp(&mut self, key: K) -> u64 {
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        self.order.push_back((key, stamp));
        stamp
    }

    /// Drops stale queue slots and expired entries from the front, at most PRUNE_STEP slots.
    fn prune(&mut self, now: i64) {
        for _ in 0..PRUNE_STEP {
            let Some((key, stamp)) = self.order.front() else {
                return;
            };
            match self.map.get(key) {
                Some(slot) if slot.stamp == *stamp => {
                    if slot.expires_at.saturating_add(self.grace) > now {
                        return;
                    }
                    self.map.remove(key);
                }
                _ => {}
            }
            self.order.pop_front();
        }
    }

    /// Removes the least recently stamped entry; false if the table is empty.
    fn evict_oldest(&mut self) -> bool {
        while let Some((key, stamp)) = self.order.pop_front() {
            if self.map.get(&key).is_some_and(|s| s.stamp == stamp) {
                self.map.remove(&key);
                return true;
            }
        }
        false
    }

    /// Rebuilds the queue once stale slots outnumber live entries (amortised O(1) per
    /// operation: a rebuild of n slots follows at least n/2 operations).
    fn compact_if_sparse(&mut self) {
        if self.order.len() > 2 * self.map.len() + 64 {
            let map = &self.map;
            self.order
                .retain(|(k, s)| map.get(k).is_some_and(|slot| slot.stamp == *s));
        }
    }

    /// Queue length (for tests of the bound).
    #[cfg(test)]
    pub fn queued(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_table_evicts_the_least_recently_used() {
        let mut t = Table::new(3, 0);
        for k in 0..3 {
            t.insert(k, k, 100, 0);
        }
        assert!(t.touch(&0, 100));
        t.insert(3, 3, 100, 0);
        assert_eq!(t.len(), 3);
        assert!(t.get(&1).is_none(), "1 was the least recently used");
        assert!(t.get(&0).is_some() && t.get(&3).is_some());
    }

    #[test]
    fn expired_entries_are_pruned_on_insert_after_the_grace() {
        let mut t = Table::new(100, 10);
        t.insert("old", (), 50, 0);
        t.insert("new", (), 500, 55);
        assert!(t.get(&"old").is_some(), "within the grace period");
        t.insert("newer", (), 500, 61);
        assert!(t.get(&"old").is_none());
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn the_queue_stays_proportional_to_the_table() {
        let mut t = Table::new(10, 0);
        for i in 0..10_000u32 {
            t.insert(i, (), 1_000_000, 0);
            if i % 2 == 0 {
                t.remove(&i);
            } else {
                t.touch(&i, 1_000_000);
            }
        }
        assert!(t.len() <= 10);
        assert!(t.queued() <= 2 * t.len() + 64 + 1, "{}", t.queued());
    }
}
