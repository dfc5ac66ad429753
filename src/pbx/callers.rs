//! A queue's waiting callers in queue order, with O(log n) join and leave.
//!
//! Asterisk numbers callers 1..n and renumbers everyone behind a caller who
//! leaves. Storing those positions would make every leave cost O(n); here a
//! caller holds an order key instead (spaced integers, so a join at the end
//! or the front never moves anyone), and the 1-based position is the rank
//! met while iterating. A priority caller joining in the middle costs the
//! walk to its position (`O(position)`); only when two neighbours' keys leave
//! no gap between them are keys respaced, which is amortised over many joins.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// A caller waiting in a queue. Its 1-based position (`Position`) is its
/// rank in [`Callers`], not a stored field.
///
/// Source: `QueueEntry` (snapshot), `QueueCallerJoin`, removed on
/// `QueueCallerLeave` / `QueueCallerAbandon`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCaller {
    /// Caller channel's `Uniqueid`.
    pub uniqueid: String,
    /// Caller channel name.
    pub channel: String,
    /// `CallerIDNum`.
    pub caller_num: String,
    /// `CallerIDName` (unescaped).
    pub caller_name: String,
    /// When the caller joined, ms since the Unix epoch (UTC): the event's
    /// receive time, or receive time minus `Wait` for a snapshot entry.
    pub joined_ms: i64,
    #[serde(skip)]
    pub(crate) seen: u64,
}

impl QueueCaller {
    /// Seconds waited at `now_ms`.
    pub fn wait_s(&self, now_ms: i64) -> i64 {
        (now_ms.saturating_sub(self.joined_ms) / 1000).max(0)
    }
}

/// Space left between neighbours' order keys.
const GAP: i64 = 1 << 20;

/// Order key: the spaced rank, then an insertion counter that breaks ties
/// (two snapshot entries from different generations may claim one rank).
type Key = (i64, u64);

/// Waiting callers of one queue, in queue order. Keyed by the caller
/// channel's `Uniqueid`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Callers {
    order: BTreeMap<Key, QueueCaller>,
    key_of: FxHashMap<String, Key>,
    next_tie: u64,
}

impl Callers {
    /// Number of waiting callers.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Nobody waits.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Callers in queue order (position 1 first).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &QueueCaller> + '_ {
        self.order.values()
    }

    /// Callers in queue order with their 1-based position.
    pub fn positioned(&self) -> impl Iterator<Item = (u32, &QueueCaller)> + '_ {
        self.order
            .values()
            .enumerate()
            .map(|(i, c)| (u32::try_from(i + 1).unwrap_or(u32::MAX), c))
    }

    /// The caller whose channel has `uniqueid`.
    pub fn get(&self, uniqueid: &str) -> Option<&QueueCaller> {
        self.key_of.get(uniqueid).and_then(|k| self.order.get(k))
    }

    /// Mutable access to the caller with `uniqueid` (order unchanged).
    pub fn get_mut(&mut self, uniqueid: &str) -> Option<&mut QueueCaller> {
        let k = self.key_of.get(uniqueid)?;
        self.order.get_mut(k)
    }

    fn tie(&mut self) -> u64 {
        self.next_tie += 1;
        self.next_tie
    }

    /// Inserts `caller` at the 1-based `position` as a live join would
    /// (those at or behind it move back one). A position of 0 or past the
    /// end appends. Replaces a caller with the same uniqueid.
    pub fn join(&mut self, caller: QueueCaller, position: u32) {
        self.remove(&caller.uniqueid);
        let len = self.order.len();
        let p = position as usize;
        let rank = if p == 0 || p > len {
            self.order.keys().next_back().map_or(0, |k| k.0 + GAP)
        } else if p == 1 {
            self.order.keys().next().map_or(0, |k| k.0 - GAP)
        } else {
            let mut keys = self.order.keys().skip(p - 2);
            let (before, after) = match (keys.next(), keys.next()) {
                (Some(b), Some(a)) => (b.0, a.0),
                _ => return self.append(caller),
            };
            if after - before < 2 {
                self.respace();
                return self.join(caller, position);
            }
            before + (after - before) / 2
        };
        let key = (rank, self.tie());
        self.key_of.insert(caller.uniqueid.clone(), key);
        self.order.insert(key, caller);
    }

    fn append(&mut self, caller: QueueCaller) {
        self.join(caller, 0);
    }

    /// Places `caller` at exactly `position` as a snapshot entry says, without
    /// moving others (they may be stale; the snapshot's end prunes them).
    pub fn place(&mut self, caller: QueueCaller, position: u32) {
        self.remove(&caller.uniqueid);
        let key = (i64::from(position).saturating_mul(GAP), self.tie());
        self.key_of.insert(caller.uniqueid.clone(), key);
        self.order.insert(key, caller);
    }

    /// Removes and returns the caller with `uniqueid`.
    pub fn remove(&mut self, uniqueid: &str) -> Option<QueueCaller> {
        let key = self.key_of.remove(uniqueid)?;
        self.order.remove(&key)
    }

    /// Keeps only the callers for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&QueueCaller) -> bool) {
        let key_of = &mut self.key_of;
        self.order.retain(|_, c| {
            let k = keep(c);
            if !k {
                key_of.remove(&c.uniqueid);
            }
            k
        });
    }

    /// Gives every caller a fresh, evenly spaced key in the current order.
    fn respace(&mut self) {
        let old = std::mem::take(&mut self.order);
        for (i, (_, c)) in old.into_iter().enumerate() {
            let key = ((i as i64 + 1) * GAP, 0);
            self.key_of.insert(c.uniqueid.clone(), key);
            self.order.insert(key, c);
        }
    }
}

impl Serialize for Callers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.order.values())
    }
}

/// The callers in queue order, as [`Callers`]'s `Serialize` writes them
/// (a console attached to the daemon receives its queues this way).
impl<'de> Deserialize<'de> for Callers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<QueueCaller>::deserialize(d)?;
        let mut callers = Callers::default();
        for caller in list {
            callers.join(caller, 0);
        }
        Ok(callers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str) -> QueueCaller {
        QueueCaller {
            uniqueid: id.into(),
            ..QueueCaller::default()
        }
    }

    fn ids(cs: &Callers) -> Vec<&str> {
        cs.iter().map(|c| c.uniqueid.as_str()).collect()
    }

    #[test]
    fn joins_at_end_front_and_middle_and_leaves_renumber() {
        let mut cs = Callers::default();
        cs.join(c("a"), 1);
        cs.join(c("b"), 2);
        cs.join(c("c"), 3);
        cs.join(c("p"), 2);
        cs.join(c("f"), 1);
        assert_eq!(ids(&cs), ["f", "a", "p", "b", "c"]);
        cs.remove("a");
        let pos: Vec<(u32, &str)> = cs
            .positioned()
            .map(|(p, c)| (p, c.uniqueid.as_str()))
            .collect();
        assert_eq!(pos, [(1, "f"), (2, "p"), (3, "b"), (4, "c")]);
        assert_eq!(cs.get("b").map(|c| c.uniqueid.as_str()), Some("b"));
        assert!(cs.get("a").is_none());
    }

    #[test]
    fn many_middle_joins_respace_without_losing_order() {
        let mut cs = Callers::default();
        cs.join(c("first"), 1);
        cs.join(c("last"), 2);
        // Always at position 2: halves the same gap until it is exhausted.
        for i in 0..100 {
            cs.join(c(&format!("m{i}")), 2);
        }
        let got = ids(&cs);
        assert_eq!(got.len(), 102);
        assert_eq!(got[0], "first");
        assert_eq!(got[1], "m99");
        assert_eq!(got[100], "m0");
        assert_eq!(got[101], "last");
    }

    #[test]
    fn snapshot_places_and_retain_prunes() {
        let mut cs = Callers::default();
        cs.join(c("stale"), 1);
        cs.place(c("y"), 2);
        cs.place(c("x"), 1);
        cs.retain(|c| c.uniqueid != "stale");
        assert_eq!(ids(&cs), ["x", "y"]);
        assert!(cs.get("stale").is_none());
    }
}
