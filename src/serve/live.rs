//! The live panes' data as one console may see it: a copy of the PBX state
//! filtered by the user's rights ([`LiveAccess`]), and the changes between
//! two such copies. The daemon keeps, per console, what it last sent and
//! sends only what changed; the console applies it to its own [`State`].

use crate::access::LiveAccess;
use crate::pbx::channel::{Bridge, Channel, calls};
use crate::pbx::{Extension, Queue, State};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

/// Changes to a console's live data. `reset` (a snapshot) means: forget
/// everything, then apply; otherwise entries listed replace the console's
/// (keyed by `Uniqueid`, `BridgeUniqueid`, queue name and device), and the
/// keys in the `*_gone` lists are removed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveDelta {
    /// A full snapshot: the console drops what it holds first.
    pub reset: bool,
    /// Channels new or changed.
    pub channels: Vec<Channel>,
    /// Channels ended (or no longer visible), by `Uniqueid`.
    pub channels_gone: Vec<String>,
    /// Bridges new or changed.
    pub bridges: Vec<Bridge>,
    /// Bridges gone, by `BridgeUniqueid`.
    pub bridges_gone: Vec<String>,
    /// Queues new or changed, whole (members, callers, counters).
    pub queues: Vec<Queue>,
    /// Queues gone, by name.
    pub queues_gone: Vec<String>,
    /// Extensions new or changed.
    pub extensions: Vec<Extension>,
    /// Extensions gone, by device.
    pub extensions_gone: Vec<String>,
    /// When the daemon applied the oldest change this delta carries, ms
    /// since epoch (UTC): the console's latency is its receive time minus
    /// this.
    #[serde(default)]
    pub applied_ms: i64,
}

impl LiveDelta {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.reset
            && self.channels.is_empty()
            && self.channels_gone.is_empty()
            && self.bridges.is_empty()
            && self.bridges_gone.is_empty()
            && self.queues.is_empty()
            && self.queues_gone.is_empty()
            && self.extensions.is_empty()
            && self.extensions_gone.is_empty()
    }

    /// Applies the changes to a console's copy.
    pub fn apply(self, state: &mut State) {
        if self.reset {
            state.channels.clear();
            state.bridges.clear();
            state.queues.clear();
            state.extensions.clear();
        }
        for id in self.channels_gone {
            state.channels.remove(&id);
        }
        for c in self.channels {
            state.channels.insert(c.uniqueid.clone(), c);
        }
        for id in self.bridges_gone {
            state.bridges.remove(&id);
        }
        for b in self.bridges {
            state.bridges.insert(b.id.clone(), b);
        }
        for name in self.queues_gone {
            state.queues.remove(&name);
        }
        for q in self.queues {
            state.queues.insert(q.name.clone(), q);
        }
        for device in self.extensions_gone {
            state.extensions.remove(&device);
        }
        for e in self.extensions {
            state.extensions.insert(e.device.clone(), e);
        }
    }
}

/// What the daemon last sent one console: the base of its next delta.
#[derive(Clone, Debug, Default)]
pub struct SentCopy {
    channels: FxHashMap<String, Channel>,
    bridges: FxHashMap<String, Bridge>,
    queues: FxHashMap<String, Queue>,
    extensions: FxHashMap<String, Extension>,
    /// Nothing was sent yet (or the console was dropped to a snapshot).
    fresh: bool,
}

impl SentCopy {
    /// A copy for a console that has received nothing: the next delta is a
    /// snapshot.
    pub fn new() -> Self {
        SentCopy {
            fresh: true,
            ..SentCopy::default()
        }
    }

    /// Nothing was sent from this copy yet: its next delta is a snapshot.
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// Everything the copy holds, as a snapshot (for a console that fell
    /// behind and must start again from what its group holds).
    pub fn snapshot(&self) -> LiveDelta {
        LiveDelta {
            reset: true,
            channels: self.channels.values().cloned().collect(),
            bridges: self.bridges.values().cloned().collect(),
            queues: self.queues.values().cloned().collect(),
            extensions: self.extensions.values().cloned().collect(),
            ..LiveDelta::default()
        }
    }

    /// What changed in `state`, seen with `access`, since the last call; the
    /// copy then holds what the console holds once it applies the delta.
    ///
    /// Cost: one pass over the state (not per event: the daemon calls this
    /// at most once per tick per console, and only after events arrived).
    pub fn delta(&mut self, state: &State, access: LiveAccess<'_>) -> LiveDelta {
        let mut d = LiveDelta {
            reset: std::mem::take(&mut self.fresh),
            ..LiveDelta::default()
        };
        if d.reset {
            *self = SentCopy::default();
        }
        let queues: Vec<&Queue> = state
            .queues
            .values()
            .filter(|q| access.sees_queue(&q.name))
            .collect();
        let mut channels: FxHashSet<&str> = FxHashSet::default();
        let mut bridges: FxHashSet<&str> = FxHashSet::default();
        for call in calls(state.channels.values()) {
            if access.sees_call_in(&queues, &call) {
                for c in call.channels {
                    channels.insert(&c.uniqueid);
                    if !c.bridge.is_empty() {
                        bridges.insert(&c.bridge);
                    }
                }
            }
        }
        sync(
            &mut self.channels,
            channels.iter().filter_map(|id| state.channels.get(*id)),
            |c| &c.uniqueid,
            (&mut d.channels, &mut d.channels_gone),
        );
        sync(
            &mut self.bridges,
            bridges.iter().filter_map(|id| state.bridges.get(*id)),
            |b| &b.id,
            (&mut d.bridges, &mut d.bridges_gone),
        );
        sync(
            &mut self.queues,
            queues.iter().copied(),
            |q| &q.name,
            (&mut d.queues, &mut d.queues_gone),
        );
        sync(
            &mut self.extensions,
            state
                .extensions
                .values()
                .filter(|e| access.sees_extension(&e.exten)),
            |e| &e.device,
            (&mut d.extensions, &mut d.extensions_gone),
        );
        d
    }
}

/// Brings `sent` to `now`: what is new or differs goes to `changed`, what
/// `sent` holds and `now` lacks goes to `gone`.
fn sync<'a, T: Clone + PartialEq + 'a>(
    sent: &mut FxHashMap<String, T>,
    now: impl Iterator<Item = &'a T>,
    id: impl Fn(&T) -> &String,
    (changed, gone): (&mut Vec<T>, &mut Vec<String>),
) {
    let mut seen: FxHashSet<String> = FxHashSet::default();
    for v in now {
        let key = id(v);
        seen.insert(key.clone());
        if sent.get(key) != Some(v) {
            sent.insert(key.clone(), v.clone());
            changed.push(v.clone());
        }
    }
    sent.retain(|key, _| {
        let kept = seen.contains(key);
        if !kept {
            gone.push(key.clone());
        }
        kept
    });
}
