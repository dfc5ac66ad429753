//! The live panes' data as one console may see it: a copy of the PBX state
//! filtered by the user's rights ([`LiveAccess`]), and the changes between
//! two such copies. The daemon keeps, per console, what it last sent and
//! sends only what changed; the console applies it to its own [`State`].

use crate::access::LiveAccess;
use crate::access::Visibility;
use crate::pbx::channel::{Bridge, Channel, calls};
use crate::pbx::{Extension, Queue, QueueCaller, QueueMember, RecentMark, RecentSince, State};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

/// Changes to a console's live data. `reset` (a snapshot) means: forget
/// everything, then apply; otherwise entries listed replace the console's
/// (keyed by `Uniqueid`, `BridgeUniqueid`, queue name and device), and the
/// keys in the `*_gone` lists are removed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveDelta {
    /// Which PBX: its index in the daemon's [`super::protocol::Site::pbxs`].
    pub pbx: usize,
    /// A full snapshot: the console drops what it holds (of this PBX) first.
    pub reset: bool,
    /// Channels new or changed.
    pub channels: Vec<Channel>,
    /// Channels ended (or no longer visible), by `Uniqueid`.
    pub channels_gone: Vec<String>,
    /// Bridges new or changed.
    pub bridges: Vec<Bridge>,
    /// Bridges gone, by `BridgeUniqueid`.
    pub bridges_gone: Vec<String>,
    /// Queues new or changed: what changed in each.
    pub queues: Vec<QueueDelta>,
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

    /// How many entities it carries: each channel, bridge, extension and
    /// removal counts one, a queue one plus its members and callers (the
    /// measure [`LiveDelta::split`] and the hub's frames are cut by).
    pub fn weight(&self) -> usize {
        self.channels.len()
            + self.channels_gone.len()
            + self.bridges.len()
            + self.bridges_gone.len()
            + self.queues.iter().map(QueueDelta::weight).sum::<usize>()
            + self.queues_gone.len()
            + self.extensions.len()
            + self.extensions_gone.len()
    }

    /// The same changes as parts of at most about `most` entities each
    /// (a queue is never cut: it goes whole into one part), applied in
    /// order to the same effect: the first part keeps `reset` and the
    /// removals, the later ones only add. A snapshot of a very large site
    /// so travels in frames well under [`super::protocol::MAX_FRAME`].
    pub fn split(self, most: usize) -> Vec<LiveDelta> {
        let most = most.max(1);
        if self.weight() <= most {
            return vec![self];
        }
        let LiveDelta {
            pbx,
            reset,
            channels,
            channels_gone,
            bridges,
            bridges_gone,
            queues,
            queues_gone,
            extensions,
            extensions_gone,
            applied_ms,
        } = self;
        let empty = |reset| LiveDelta {
            pbx,
            reset,
            applied_ms,
            ..LiveDelta::default()
        };
        let mut parts = vec![LiveDelta {
            channels_gone,
            bridges_gone,
            queues_gone,
            extensions_gone,
            ..empty(reset)
        }];
        // The part `w` more entities go into: the last, or a new one when
        // they would take the last past `most`.
        let part = |parts: &mut Vec<LiveDelta>, w: usize| {
            let full = parts
                .last()
                .is_none_or(|p| p.weight() > 0 && p.weight() + w > most);
            if full {
                parts.push(empty(false));
            }
            parts.len() - 1
        };
        for c in channels {
            let i = part(&mut parts, 1);
            parts[i].channels.push(c);
        }
        for b in bridges {
            let i = part(&mut parts, 1);
            parts[i].bridges.push(b);
        }
        for e in extensions {
            let i = part(&mut parts, 1);
            parts[i].extensions.push(e);
        }
        for q in queues {
            let i = part(&mut parts, q.weight());
            parts[i].queues.push(q);
        }
        parts
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
        for d in self.queues {
            let q = state
                .queues
                .entry(d.name.clone())
                .or_insert_with(|| Queue::new(&d.name));
            d.apply(q);
        }
        for device in self.extensions_gone {
            state.extensions.remove(&device);
        }
        for e in self.extensions {
            state.extensions.insert(e.device.clone(), e);
        }
    }
}

/// What changed in one queue.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueDelta {
    /// Queue name.
    pub name: String,
    /// The queue's own figures ([`Queue::head`]), when they changed.
    pub head: Option<Queue>,
    /// Members new or changed.
    pub members: Vec<QueueMember>,
    /// Members gone, by interface.
    pub members_gone: Vec<String>,
    /// How the waiting callers changed, when they did.
    pub callers: Option<CallersChange>,
    /// Arrivals and completions recorded since the last delta (staffing
    /// advice).
    pub recent: RecentSince,
}

impl QueueDelta {
    /// One, plus its members (new, changed or gone) and callers listed.
    fn weight(&self) -> usize {
        let callers = match &self.callers {
            Some(CallersChange::List(l)) => l.len(),
            Some(CallersChange::Edit { gone, appended }) => gone.len() + appended.len(),
            None => 0,
        };
        1 + self.members.len() + self.members_gone.len() + callers
    }

    fn is_empty(&self) -> bool {
        self.head.is_none()
            && self.members.is_empty()
            && self.members_gone.is_empty()
            && self.callers.is_none()
            && self.recent.is_empty()
    }

    fn apply(self, q: &mut Queue) {
        if let Some(mut head) = self.head {
            head.members = std::mem::take(&mut q.members);
            head.callers = std::mem::take(&mut q.callers);
            head.recent = std::mem::take(&mut q.recent);
            *q = head;
        }
        for i in self.members_gone {
            q.members.remove(&i);
        }
        for m in self.members {
            q.members.insert(m.interface.clone(), m);
        }
        match self.callers {
            Some(CallersChange::List(list)) => {
                q.callers = Default::default();
                for c in list {
                    q.callers.join(c, 0);
                }
            }
            Some(CallersChange::Edit { gone, appended }) => {
                for id in gone {
                    q.callers.remove(&id);
                }
                for c in appended {
                    q.callers.join(c, 0);
                }
            }
            None => {}
        }
        q.recent.extend(self.recent);
    }
}

/// How a queue's waiting callers changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CallersChange {
    /// The common case: some callers left (answered, abandoned) and new
    /// ones joined at the end, the others unchanged in the same order.
    Edit {
        /// Callers gone, by `Uniqueid`.
        gone: Vec<String>,
        /// Callers new at the end, in order.
        appended: Vec<QueueCaller>,
    },
    /// Anything else (a caller moved or changed): the whole list in order.
    List(Vec<QueueCaller>),
}

impl CallersChange {
    /// The change from `old` to `new` (both in queue order).
    fn between(old: &[QueueCaller], new: &[QueueCaller]) -> Self {
        let now: FxHashSet<&str> = new.iter().map(|c| c.uniqueid.as_str()).collect();
        let before: FxHashSet<&str> = old.iter().map(|c| c.uniqueid.as_str()).collect();
        let kept = old.iter().filter(|c| now.contains(c.uniqueid.as_str()));
        let stayed = kept.clone().count();
        let in_place = new.len() >= stayed && kept.eq(new[..stayed].iter());
        let appended = &new[stayed..];
        if in_place
            && appended
                .iter()
                .all(|c| !before.contains(c.uniqueid.as_str()))
        {
            CallersChange::Edit {
                gone: old
                    .iter()
                    .filter(|c| !now.contains(c.uniqueid.as_str()))
                    .map(|c| c.uniqueid.clone())
                    .collect(),
                appended: appended.to_vec(),
            }
        } else {
            CallersChange::List(new.to_vec())
        }
    }
}

/// What one console holds of a queue.
#[derive(Clone, Debug, Default)]
struct QueueSent {
    head: Queue,
    members: FxHashMap<String, QueueMember>,
    callers: Vec<QueueCaller>,
    recent: RecentMark,
}

impl QueueSent {
    /// Brings the copy to `q`; returns what changed.
    fn sync(&mut self, q: &Queue) -> QueueDelta {
        let mut d = QueueDelta {
            name: q.name.clone(),
            ..QueueDelta::default()
        };
        let head = q.head();
        if head != self.head {
            self.head = head.clone();
            d.head = Some(head);
        }
        sync(
            &mut self.members,
            q.members.values(),
            |m| &m.interface,
            (&mut d.members, &mut d.members_gone),
        );
        if !q.callers.iter().eq(self.callers.iter()) {
            let now: Vec<QueueCaller> = q.callers.iter().cloned().collect();
            d.callers = Some(CallersChange::between(&self.callers, &now));
            self.callers = now;
        }
        d.recent = q.recent.since(self.recent);
        self.recent = q.recent.mark();
        d
    }
}

/// What the daemon last sent one console: the base of its next delta.
#[derive(Clone, Debug, Default)]
pub struct SentCopy {
    channels: FxHashMap<String, Channel>,
    bridges: FxHashMap<String, Bridge>,
    queues: FxHashMap<String, QueueSent>,
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
    /// behind and must start again from what its group holds), with the
    /// queues' recent load from `state` (the copy keeps only how far it
    /// has sent it).
    pub fn snapshot(&self, state: &State) -> LiveDelta {
        let queues = self
            .queues
            .values()
            .map(|q| QueueDelta {
                name: q.head.name.clone(),
                head: Some(q.head.clone()),
                members: q.members.values().cloned().collect(),
                members_gone: Vec::new(),
                callers: Some(CallersChange::List(q.callers.clone())),
                recent: state
                    .queues
                    .get(&q.head.name)
                    .map(|s| s.recent.since(RecentMark::default()))
                    .unwrap_or_default(),
            })
            .collect();
        LiveDelta {
            reset: true,
            channels: self.channels.values().cloned().collect(),
            bridges: self.bridges.values().cloned().collect(),
            queues,
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
        if *access.visibility == Visibility::All {
            // Everything: no call needs checking.
            sync(
                &mut self.channels,
                state.channels.values(),
                |c| &c.uniqueid,
                (&mut d.channels, &mut d.channels_gone),
            );
            sync(
                &mut self.bridges,
                state.bridges.values(),
                |b| &b.id,
                (&mut d.bridges, &mut d.bridges_gone),
            );
        } else {
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
        }
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        for q in &queues {
            seen.insert(&q.name);
            let delta = self.queues.entry(q.name.clone()).or_default().sync(q);
            if !delta.is_empty() {
                d.queues.push(delta);
            }
        }
        self.queues.retain(|name, _| {
            let kept = seen.contains(name.as_str());
            if !kept {
                d.queues_gone.push(name.clone());
            }
            kept
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::ExtensionRule;
    use crate::pbx::snapshot::Snapshot;

    fn caller(id: &str, queue: &mut Queue) {
        queue.callers.join(
            QueueCaller {
                uniqueid: id.into(),
                channel: format!("PJSIP/trunk-{id}"),
                ..QueueCaller::default()
            },
            0,
        );
    }

    fn member(interface: &str, paused: bool) -> QueueMember {
        QueueMember {
            interface: interface.into(),
            paused,
            ..QueueMember::default()
        }
    }

    /// The console's copy, rebuilt from deltas, shows what the daemon's
    /// state shows: same queues, members, callers in order, extensions,
    /// channels and staffing load.
    fn same(daemon: &State, console: &State) {
        assert_eq!(Snapshot::of(daemon), Snapshot::of(console));
        for (name, q) in &daemon.queues {
            let c = &console.queues[name];
            assert_eq!(q.head(), c.head(), "{name}'s figures");
            assert_eq!(
                q.recent.load(200_000, 3_600_000),
                c.recent.load(200_000, 3_600_000),
                "{name}'s recent load"
            );
        }
    }

    #[test]
    fn a_snapshot_cut_into_parts_rebuilds_the_same_state() {
        let mut daemon = State::new();
        for i in 0..2_500 {
            let device = format!("PJSIP/{i}");
            daemon
                .extensions
                .insert(device.clone(), Extension::new(&device, 0));
        }
        let mut q = Queue::new("sales");
        for i in 0..300 {
            let m = member(&format!("Local/{i}@agents/n"), false);
            q.members.insert(m.interface.clone(), m);
        }
        daemon.queues.insert("sales".into(), q);
        let mut sent = SentCopy::new();
        let all = Visibility::All;
        let rule = ExtensionRule::default();
        let access = LiveAccess {
            visibility: &all,
            rule: &rule,
        };
        let snapshot = sent.delta(&daemon, access);
        assert!(snapshot.reset);
        let parts = snapshot.split(1_000);
        assert!(parts.len() >= 3, "{} parts", parts.len());
        assert!(parts[0].reset && parts[1..].iter().all(|p| !p.reset));
        assert!(
            parts.iter().all(|p| p.weight() <= 1_000),
            "no part past the limit"
        );
        // A console holding old data: the first part resets it.
        let mut console = State::new();
        console.queues.insert("old".into(), Queue::new("old"));
        for p in parts {
            p.apply(&mut console);
        }
        same(&daemon, &console);
    }

    #[test]
    fn a_console_rebuilds_the_state_from_deltas() {
        let all = Visibility::All;
        let rule = ExtensionRule::default();
        let access = LiveAccess {
            visibility: &all,
            rule: &rule,
        };
        let mut daemon = State::new();
        let mut q = Queue::new("sales");
        q.completed = 3;
        q.members
            .insert("PJSIP/301".into(), member("PJSIP/301", false));
        caller("c1", &mut q);
        caller("c2", &mut q);
        q.recent.arrival(10_000);
        q.recent.completion(20_000, 40);
        daemon.queues.insert("sales".into(), q);
        daemon
            .queues
            .insert("support".into(), Queue::new("support"));
        daemon
            .extensions
            .insert("PJSIP/301".into(), Extension::new("PJSIP/301", 5));

        let mut sent = SentCopy::new();
        let mut console = State::new();
        let d = sent.delta(&daemon, access);
        assert!(d.reset);
        d.apply(&mut console);
        same(&daemon, &console);

        // Changes: a caller leaves, one joins at the front, a member pauses,
        // another arrives, the counters move, a queue goes; one arrival
        // and one completion are recorded.
        let q = daemon.queues.get_mut("sales").unwrap_or_else(|| panic!());
        q.callers.remove("c1");
        q.callers.join(
            QueueCaller {
                uniqueid: "c3".into(),
                ..QueueCaller::default()
            },
            1,
        );
        q.members
            .insert("PJSIP/301".into(), member("PJSIP/301", true));
        q.members
            .insert("PJSIP/302".into(), member("PJSIP/302", false));
        q.completed = 4;
        q.recent.arrival(30_000);
        q.recent.completion(40_000, 60);
        daemon.queues.remove("support");
        let d = sent.delta(&daemon, access);
        assert!(!d.reset);
        assert_eq!(d.queues_gone, ["support"]);
        let qd = &d.queues[0];
        assert_eq!(qd.members.len(), 2, "only the changed members: {qd:?}");
        assert_eq!(qd.recent.arrivals, [30_000], "only the new arrival");
        assert_eq!(qd.recent.completions, [(40_000, 60)]);
        assert!(
            matches!(&qd.callers, Some(CallersChange::List(l)) if l.len() == 2),
            "a caller at the front is a new order: {:?}",
            qd.callers
        );
        d.apply(&mut console);
        same(&daemon, &console);
        let order: Vec<&str> = console.queues["sales"]
            .callers
            .iter()
            .map(|c| c.uniqueid.as_str())
            .collect();
        assert_eq!(order, ["c3", "c2"]);

        // Nothing changed: nothing to send.
        assert!(sent.delta(&daemon, access).is_empty());

        // The first caller is answered and one joins at the end: an edit,
        // not the list.
        let q = daemon.queues.get_mut("sales").unwrap_or_else(|| panic!());
        q.callers.remove("c3");
        caller("c4", q);
        let d = sent.delta(&daemon, access);
        assert!(
            matches!(&d.queues[0].callers, Some(CallersChange::Edit { gone, appended })
                if gone == &["c3"] && appended.len() == 1 && appended[0].uniqueid == "c4"),
            "{:?}",
            d.queues[0].callers
        );
        d.apply(&mut console);
        same(&daemon, &console);

        // A console behind gets the group's snapshot, recent load included.
        let mut late = State::new();
        sent.snapshot(&daemon).apply(&mut late);
        same(&daemon, &late);
    }

    #[test]
    fn a_restricted_copy_holds_only_its_queues_and_extensions() {
        let restricted = Visibility::Restricted {
            extensions: vec!["301".into()],
            queues: vec!["sales".into()],
        };
        let rule = ExtensionRule::default();
        let access = LiveAccess {
            visibility: &restricted,
            rule: &rule,
        };
        let mut daemon = State::new();
        for (name, ext) in [("sales", "301"), ("support", "302")] {
            daemon.queues.insert(name.into(), Queue::new(name));
            let device = format!("PJSIP/{ext}");
            daemon
                .extensions
                .insert(device.clone(), Extension::new(&device, 1));
        }
        let d = SentCopy::new().delta(&daemon, access);
        let queues: Vec<&str> = d.queues.iter().map(|q| q.name.as_str()).collect();
        let exts: Vec<&str> = d.extensions.iter().map(|e| e.exten.as_str()).collect();
        assert_eq!((queues, exts), (vec!["sales"], vec!["301"]));
    }
}
