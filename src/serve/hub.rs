//! The hub: the daemon's one owner of the PBXs' state. It applies each
//! PBX's AMI messages to that PBX's own state (links taken in turn, see
//! [`FanIn`]: a flooding PBX never holds back another), publishes each
//! link's state, and sends each console what changed for it.
//!
//! Consoles with the same rights form a [`Group`]: the group's delta is
//! computed and encoded once ([`SentCopy::delta`], one pass over the state)
//! and the same bytes are queued for each member without waiting. So a
//! tick costs one pass per distinct set of rights plus one queue push per
//! console, whatever the number of consoles.
//!
//! A delta leaves at most [`MIN_GAP`] after the change that caused it
//! (under load changes are batched into one delta per gap). A console whose
//! queue is full (it stopped reading) misses deltas and is sent its group's
//! catch-up (a snapshot of the group's copy and the deltas since) once it
//! has read everything queued: it never slows the hub or another console,
//! and its memory in the daemon is its queue
//! ([`super::daemon::CONSOLE_QUEUE`] frames whose bytes its group shares):
//! consoles that catch up at different times share one snapshot.

use super::live::{LiveDelta, SentCopy};
use super::protocol::{ConsoleInfo, ToConsole, encode};
use crate::access::LiveAccess;
use crate::access::Visibility;
use crate::ami::connection::LinkHealth;
use crate::ami::fan_in::FanIn;
use crate::ami::{AmiMsg, ConnectionState};
use crate::clock::now_ms;
use crate::endpoints::ExtensionRule;
use crate::pbx::State;
use crate::service::supervise::lookup::{self, Found, LiveQuery};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Shortest interval between two deltas (and so the longest a change waits
/// for its delta when the hub is idle before it).
pub const MIN_GAP: Duration = Duration::from_millis(20);

/// The attached consoles as `serve status` lists them, by connection id.
pub type Registry = Mutex<BTreeMap<u64, ConsoleInfo>>;

/// The registry, locked (a panic elsewhere while it was held leaves
/// counters, which stay usable).
pub fn lock(registry: &Registry) -> std::sync::MutexGuard<'_, BTreeMap<u64, ConsoleInfo>> {
    registry.lock().unwrap_or_else(|e| e.into_inner())
}

/// A console joining the hub.
pub struct Join {
    /// Connection id (the registry's key).
    pub id: u64,
    /// The user's rights.
    pub visibility: Visibility,
    /// The PBXs whose live data the user sees (by name); `None`: all.
    pub pbxs: Option<Vec<String>>,
    /// Its frame queue.
    pub frames: mpsc::Sender<Bytes>,
}

/// One console in a group.
struct Slot {
    id: u64,
    frames: mpsc::Sender<Bytes>,
    /// The console missed a frame (or just joined): it gets its group's
    /// snapshot when its queue has room.
    behind: bool,
    /// A link's state found its queue full: it is told every link's state
    /// again with its snapshot.
    missed_link: bool,
}

/// Consoles with the same rights, sharing one copy per PBX and one encoded
/// delta.
struct Group {
    visibility: Visibility,
    /// The PBXs the group sees, by name (`None`: all).
    pbx_scope: Option<Vec<String>>,
    /// What the group's consoles hold, per PBX (indexed like `Hub::pbxs`).
    sent: Vec<SentCopy>,
    slots: Vec<Slot>,
    /// What a console that fell behind is sent to catch up: a snapshot of
    /// `sent` as it was at one fan-out, then every delta frame since (empty:
    /// none kept). Shared by every console that catches up while any is
    /// behind, until it would no longer fit an empty console queue beside
    /// the links' states; so many slow consoles hold one snapshot's bytes
    /// between them, not one each. Dropped when no console is behind.
    catch_up: Vec<Bytes>,
}

/// One PBX in the hub.
struct HubPbx {
    /// Its name (`[[pbx]] name`), for the users' PBX rights.
    name: String,
    state: State,
    conn: ConnectionState,
    health: LinkHealth,
    /// Its state changed since the last fan-out.
    changed: bool,
}

/// Most AMI messages applied in one go before the hub looks at joins and
/// its fan-out timer again.
const APPLY_BUDGET: usize = 4096;

/// What happened to a frame offered to a console.
#[derive(Debug, PartialEq, Eq)]
enum Offer {
    Queued,
    Full,
    Gone,
}

fn offer(slot: &Slot, frame: Bytes) -> Offer {
    match slot.frames.try_send(frame) {
        Ok(()) => Offer::Queued,
        Err(mpsc::error::TrySendError::Full(_)) => Offer::Full,
        Err(mpsc::error::TrySendError::Closed(_)) => Offer::Gone,
    }
}

/// The hub's state between messages.
pub struct Hub {
    /// The PBXs, in the order of [`super::protocol::Site::pbxs`].
    pbxs: Vec<HubPbx>,
    rule: ExtensionRule,
    groups: Vec<Group>,
    /// When the last fan-out ran.
    last_fan_out: Instant,
    /// When the oldest change not yet sent was applied, ms since epoch.
    oldest_unsent_ms: Option<i64>,
}

impl Hub {
    /// An empty hub for the PBXs named `pbxs` (in order) whose extensions
    /// follow `rule`.
    pub fn new(rule: ExtensionRule, pbxs: &[String]) -> Self {
        Hub {
            pbxs: pbxs
                .iter()
                .map(|name| HubPbx {
                    name: name.clone(),
                    state: State::new(),
                    conn: ConnectionState::Connecting { attempt: 1 },
                    health: LinkHealth::default(),
                    changed: false,
                })
                .collect(),
            rule,
            groups: Vec::new(),
            last_fan_out: Instant::now(),
            oldest_unsent_ms: None,
        }
    }

    /// Runs until the daemon stops (the joins end). `ami` carries each
    /// PBX's messages, `health` each link's freshness (by PBX index),
    /// `calls` the supervisor-actions workers' questions about calls and
    /// channels.
    /// When a PBX's messages end (a replay reached its end) its state stays
    /// as it was, served.
    pub async fn run(
        mut self,
        (mut ami, mut health): (FanIn, mpsc::Receiver<(usize, LinkHealth)>),
        mut joins: mpsc::Receiver<Join>,
        mut calls: mpsc::Receiver<LiveQuery>,
        registry: &Registry,
    ) {
        let (mut ami_open, mut health_open) = (true, true);
        loop {
            let due = self.due();
            // The links whose state or freshness the consoles must hear of.
            let links: Vec<usize> = tokio::select! {
                msg = ami.recv(), if ami_open => match msg {
                    Some(first) => self.apply(first, &mut ami),
                    None => {
                        ami_open = false;
                        Vec::new()
                    }
                },
                h = health.recv(), if health_open => match h {
                    Some((i, h)) if i < self.pbxs.len() => {
                        self.pbxs[i].health = h;
                        vec![i]
                    }
                    Some(_) => Vec::new(),
                    None => {
                        health_open = false;
                        Vec::new()
                    }
                },
                join = joins.recv() => {
                    let Some(join) = join else { return };
                    self.join(join, registry);
                    Vec::new()
                }
                Some(query) = calls.recv() => {
                    let found = self.pbxs.get(query.pbx).map_or(Found::Missing, |p| {
                        lookup::find(&p.state, &self.rule, &query.lookup, &query.checks)
                    });
                    let _ = query.reply.send(found);
                    Vec::new()
                }
                _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    self.fan_out(registry);
                    Vec::new()
                }
            };
            for i in links {
                let p = &self.pbxs[i];
                let link = ToConsole::Link {
                    pbx: i,
                    conn: p.conn.clone(),
                    health: p.health,
                };
                self.broadcast(&link, registry);
            }
        }
    }

    /// Applies `first` and what else is queued, at most [`APPLY_BUDGET`]
    /// messages (one delta per gap, not per event); returns the PBXs whose
    /// link state changed.
    fn apply(&mut self, first: (usize, AmiMsg), ami: &mut FanIn) -> Vec<usize> {
        let mut links = Vec::new();
        let mut next = Some(first);
        let mut left = APPLY_BUDGET;
        while let Some((i, msg)) = next {
            let Some(p) = self.pbxs.get_mut(i) else {
                next = ami.try_recv();
                continue;
            };
            if let AmiMsg::State(s) = &msg {
                p.conn = s.clone();
                if !links.contains(&i) {
                    links.push(i);
                }
            }
            if p.state.handle(&msg) {
                p.changed = true;
                self.oldest_unsent_ms.get_or_insert_with(now_ms);
            }
            left -= 1;
            next = if left > 0 { ami.try_recv() } else { None };
        }
        links
    }

    /// Adds a console to its group; it is told every link's state at once
    /// (only it: the others know them), and its snapshot follows at the
    /// next fan-out.
    fn join(&mut self, join: Join, registry: &Registry) {
        let mut slot = Slot {
            id: join.id,
            frames: join.frames,
            behind: true,
            missed_link: false,
        };
        for frame in link_frames(&self.pbxs) {
            let sent = offer(&slot, frame);
            record(registry, &mut slot, &sent, false);
        }
        match self
            .groups
            .iter_mut()
            .find(|g| g.visibility == join.visibility && g.pbx_scope == join.pbxs)
        {
            Some(g) => g.slots.push(slot),
            None => self.groups.push(Group {
                visibility: join.visibility,
                pbx_scope: join.pbxs,
                sent: self.pbxs.iter().map(|_| SentCopy::new()).collect(),
                slots: vec![slot],
                catch_up: Vec::new(),
            }),
        }
    }

    /// When the next fan-out is due: `MIN_GAP` after the last one, when
    /// something changed or a console waits for a snapshot.
    fn due(&self) -> Option<Instant> {
        let waiting = self.groups.iter().any(|g| g.slots.iter().any(|s| s.behind));
        let changed = self.pbxs.iter().any(|p| p.changed);
        (changed || waiting).then_some(self.last_fan_out + MIN_GAP)
    }

    /// Sends each group its deltas (one per PBX that changed, in one
    /// frame), and its catch-up (a snapshot of every PBX and the deltas
    /// since, after the links' states if one was missed) to consoles behind
    /// whose queue is empty.
    fn fan_out(&mut self, registry: &Registry) {
        self.last_fan_out = Instant::now();
        let changed: Vec<bool> = self
            .pbxs
            .iter_mut()
            .map(|p| std::mem::take(&mut p.changed))
            .collect();
        let stamp_ms = self.oldest_unsent_ms.take();
        let mut links: Option<Vec<Bytes>> = None;
        // What an empty console queue takes besides the links' states.
        let room = super::daemon::CONSOLE_QUEUE.saturating_sub(self.pbxs.len());
        for g in &mut self.groups {
            let access = LiveAccess {
                visibility: &g.visibility,
                rule: &self.rule,
            };
            let deltas: Vec<LiveDelta> = self
                .pbxs
                .iter()
                .zip(&mut g.sent)
                .enumerate()
                .filter(|(i, (p, sent))| {
                    (changed[*i] || sent.is_fresh()) && sees(&g.pbx_scope, &p.name)
                })
                .map(|(i, (p, sent))| LiveDelta {
                    pbx: i,
                    ..sent.delta(&p.state, access)
                })
                .filter(|d| !d.is_empty())
                .map(|d| stamped(d, stamp_ms))
                .collect();
            let frames = live_frames(deltas);
            let Group {
                sent,
                slots,
                catch_up,
                pbx_scope,
                ..
            } = g;
            if !catch_up.is_empty() {
                if catch_up.len() + frames.len() > room {
                    catch_up.clear();
                } else {
                    catch_up.extend(frames.iter().cloned());
                }
            }
            for slot in slots.iter_mut() {
                let to_send = if slot.behind {
                    // Only once it has read everything queued: a console
                    // that cannot keep up holds one catch-up, not many.
                    if slot.frames.capacity() < slot.frames.max_capacity() {
                        continue;
                    }
                    if catch_up.is_empty() {
                        *catch_up = snapshot_frames(&self.pbxs, sent, pbx_scope, stamp_ms);
                    }
                    if std::mem::take(&mut slot.missed_link) {
                        let links = links.get_or_insert_with(|| link_frames(&self.pbxs));
                        for f in links.iter() {
                            let queued = offer(slot, f.clone());
                            record(registry, slot, &queued, false);
                        }
                    }
                    &*catch_up
                } else {
                    &frames
                };
                for f in to_send.iter() {
                    let queued = offer(slot, f.clone());
                    record(registry, slot, &queued, true);
                    if queued != Offer::Queued {
                        break;
                    }
                }
            }
            if !slots.iter().any(|s| s.behind) {
                catch_up.clear();
            }
        }
        self.prune();
    }

    /// Sends a frame to every console (the link's state).
    fn broadcast(&mut self, msg: &ToConsole, registry: &Registry) {
        let Ok(frame) = encode(msg) else { return };
        for g in &mut self.groups {
            for slot in &mut g.slots {
                let sent = offer(slot, frame.clone());
                record(registry, slot, &sent, false);
            }
        }
        self.prune();
    }

    /// Drops consoles that went away, and groups left empty.
    fn prune(&mut self) {
        for g in &mut self.groups {
            g.slots.retain(|s| !s.frames.is_closed());
        }
        self.groups.retain(|g| !g.slots.is_empty());
    }
}

/// Each PBX link's state, one frame per PBX (what a console joining or
/// catching up is told first).
fn link_frames(pbxs: &[HubPbx]) -> Vec<Bytes> {
    pbxs.iter()
        .enumerate()
        .filter_map(|(i, p)| {
            encode(&ToConsole::Link {
                pbx: i,
                conn: p.conn.clone(),
                health: p.health,
            })
            .ok()
        })
        .collect()
}

/// A snapshot of everything a group holds (`sent`) of the PBXs it sees, as
/// live frames stamped `stamp_ms`.
fn snapshot_frames(
    pbxs: &[HubPbx],
    sent: &[SentCopy],
    scope: &Option<Vec<String>>,
    stamp_ms: Option<i64>,
) -> Vec<Bytes> {
    let all = pbxs
        .iter()
        .zip(sent)
        .enumerate()
        .filter(|(_, (p, _))| sees(scope, &p.name))
        .map(|(i, (p, sent))| {
            stamped(
                LiveDelta {
                    pbx: i,
                    ..sent.snapshot(&p.state)
                },
                stamp_ms,
            )
        })
        .collect();
    live_frames(all)
}

/// A group whose PBX rights are `scope` sees PBX `name`.
fn sees(scope: &Option<Vec<String>>, name: &str) -> bool {
    scope.as_ref().is_none_or(|s| s.iter().any(|n| n == name))
}

/// Most entities one live frame carries ([`LiveDelta::weight`]): a few
/// hundred bytes each, so a frame stays near a megabyte, far under
/// [`super::protocol::MAX_FRAME`], and a snapshot of 300,000 entities still
/// fits a console's queue ([`super::daemon::CONSOLE_QUEUE`] frames).
pub const FRAME_ENTITIES: usize = 5_000;

/// `deltas` as encoded `Live` frames of at most [`FRAME_ENTITIES`] each
/// (large deltas cut with [`LiveDelta::split`], small ones sharing a
/// frame), in order.
fn live_frames(deltas: Vec<LiveDelta>) -> Vec<Bytes> {
    let mut frames = Vec::new();
    let mut batch: Vec<LiveDelta> = Vec::new();
    let mut weight = 0;
    let mut flush = |batch: &mut Vec<LiveDelta>| {
        if !batch.is_empty()
            && let Ok(f) = encode(&ToConsole::Live(std::mem::take(batch)))
        {
            frames.push(f);
        }
    };
    for part in deltas.into_iter().flat_map(|d| d.split(FRAME_ENTITIES)) {
        let w = part.weight();
        if weight + w > FRAME_ENTITIES {
            flush(&mut batch);
            weight = 0;
        }
        weight += w;
        batch.push(part);
    }
    flush(&mut batch);
    frames
}

/// `delta` with the time its oldest change was applied.
fn stamped(mut delta: LiveDelta, stamp_ms: Option<i64>) -> LiveDelta {
    delta.applied_ms = stamp_ms.unwrap_or_else(now_ms);
    delta
}

/// Counts a frame offered to `slot` in the registry; a full queue puts the
/// console behind (a snapshot follows when it reads again); a queued `live`
/// frame (a delta or a snapshot) brings it up to date.
fn record(registry: &Registry, slot: &mut Slot, sent: &Offer, live: bool) {
    let mut consoles = lock(registry);
    let info = consoles.get_mut(&slot.id);
    match sent {
        Offer::Queued => {
            slot.behind &= !live;
            if let Some(i) = info {
                i.frames += 1;
            }
        }
        Offer::Full if !slot.behind => {
            slot.behind = true;
            slot.missed_link |= !live;
            if let Some(i) = info {
                i.dropped += 1;
            }
            tracing::info!(
                console = slot.id,
                "console not reading; it gets a snapshot when it catches up"
            );
        }
        Offer::Full => slot.missed_link |= !live,
        Offer::Gone => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pbx::Queue;

    fn hub_with_queues(names: &[&str]) -> Hub {
        let mut hub = Hub::new(ExtensionRule::default(), &["default".into()]);
        for n in names {
            hub.pbxs[0].state.queues.insert((*n).into(), Queue::new(n));
        }
        hub.pbxs[0].changed = true;
        hub
    }

    fn deltas(frame: &Bytes) -> Vec<LiveDelta> {
        match super::super::protocol::decode::<ToConsole>(frame) {
            Ok(ToConsole::Live(d)) => d,
            other => panic!("{other:?}"),
        }
    }

    /// Joins console `id` with a queue of `cap` frames; it is told each
    /// link's state first (read here), then nothing until a fan-out.
    fn joined(hub: &mut Hub, id: u64, visibility: Visibility, cap: usize) -> mpsc::Receiver<Bytes> {
        joined_to(hub, id, visibility, None, cap)
    }

    /// [`joined`], seeing only the PBXs named in `pbxs`.
    fn joined_to(
        hub: &mut Hub,
        id: u64,
        visibility: Visibility,
        pbxs: Option<Vec<String>>,
        cap: usize,
    ) -> mpsc::Receiver<Bytes> {
        let (tx, mut rx) = mpsc::channel(cap);
        hub.join(
            Join {
                id,
                visibility,
                pbxs,
                frames: tx,
            },
            &Registry::default(),
        );
        for i in 0..hub.pbxs.len() {
            match super::super::protocol::decode::<ToConsole>(&rx.try_recv().unwrap_or_default()) {
                Ok(ToConsole::Link { pbx, .. }) => assert_eq!(pbx, i),
                other => panic!("{other:?}"),
            }
        }
        assert!(
            rx.try_recv().is_err(),
            "only the links' states before a fan-out"
        );
        rx
    }

    /// The one PBX's delta of a frame.
    fn live(frame: &Bytes) -> LiveDelta {
        let mut d = deltas(frame);
        assert_eq!(d.len(), 1, "{d:?}");
        d.pop().unwrap_or_default()
    }

    #[test]
    fn a_snapshot_too_large_for_one_frame_travels_in_several() {
        let registry = Registry::default();
        let mut hub = Hub::new(ExtensionRule::default(), &["default".into()]);
        for i in 0..(3 * FRAME_ENTITIES) {
            let device = format!("PJSIP/{i}");
            hub.pbxs[0]
                .state
                .extensions
                .insert(device.clone(), crate::pbx::Extension::new(&device, 0));
        }
        hub.pbxs[0].changed = true;
        let mut rx = joined(&mut hub, 1, Visibility::All, 64);
        hub.fan_out(&registry);
        let mut console = State::new();
        let mut n = 0;
        while let Ok(frame) = rx.try_recv() {
            assert!(frame.len() < super::super::protocol::MAX_FRAME / 4);
            n += 1;
            for d in deltas(&frame) {
                d.apply(&mut console);
            }
        }
        assert!(n >= 3, "{n} frames");
        assert_eq!(console.extensions.len(), 3 * FRAME_ENTITIES);
    }

    #[test]
    fn each_pbx_has_its_own_state_and_deltas_name_their_pbx() {
        let registry = Registry::default();
        let mut hub = Hub::new(ExtensionRule::default(), &["a".into(), "b".into()]);
        for p in &mut hub.pbxs {
            p.state.queues.insert("sales".into(), Queue::new("sales"));
            p.changed = true;
        }
        let mut rx = joined(&mut hub, 1, Visibility::All, 8);
        hub.fan_out(&registry);
        let snap = deltas(&rx.try_recv().unwrap_or_default());
        let got: Vec<(usize, bool, usize)> = snap
            .iter()
            .map(|d| (d.pbx, d.reset, d.queues.len()))
            .collect();
        assert_eq!(
            got,
            [(0, true, 1), (1, true, 1)],
            "two `sales`, one per PBX"
        );
        // A change on PBX 1 only: the frame carries PBX 1's delta alone.
        hub.pbxs[1]
            .state
            .queues
            .insert("support".into(), Queue::new("support"));
        hub.pbxs[1].changed = true;
        hub.fan_out(&registry);
        let d = deltas(&rx.try_recv().unwrap_or_default());
        let got: Vec<(usize, Vec<&str>)> = d
            .iter()
            .map(|d| (d.pbx, d.queues.iter().map(|q| q.name.as_str()).collect()))
            .collect();
        assert_eq!(got, [(1, vec!["support"])]);
        // A user with rights on PBX b only never receives a's data.
        let mut b_only = joined_to(&mut hub, 2, Visibility::All, Some(vec!["b".into()]), 8);
        hub.fan_out(&registry);
        let snap = deltas(&b_only.try_recv().unwrap_or_default());
        assert_eq!(snap.iter().map(|d| d.pbx).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn a_console_that_stops_reading_is_sent_a_snapshot_once_it_reads_again() {
        let registry = Registry::default();
        let mut hub = hub_with_queues(&["sales"]);
        let mut slow = joined(&mut hub, 1, Visibility::All, 1);
        let mut fast = joined(&mut hub, 2, Visibility::All, 8);
        hub.fan_out(&registry);
        assert!(live(&slow.try_recv().unwrap_or_default()).reset);
        assert!(live(&fast.try_recv().unwrap_or_default()).reset);

        // Two changes; the slow console reads neither.
        for n in ["a", "b"] {
            hub.pbxs[0].state.queues.insert(n.into(), Queue::new(n));
            hub.pbxs[0].changed = true;
            hub.fan_out(&registry);
        }
        let d = live(&fast.try_recv().unwrap_or_default());
        assert_eq!(d.queues.len(), 1, "the reader gets each change: {d:?}");
        assert!(!d.reset);
        assert_eq!(live(&fast.try_recv().unwrap_or_default()).queues.len(), 1);
        // The slow one holds the first change only; the second found its
        // queue full: it is behind.
        assert_eq!(live(&slow.try_recv().unwrap_or_default()).queues.len(), 1);
        assert!(slow.try_recv().is_err());

        // It reads again: the next fan-out (no new change) sends it a
        // snapshot of everything, and the reader nothing.
        hub.fan_out(&registry);
        let snap = live(&slow.try_recv().unwrap_or_default());
        assert!(snap.reset);
        let mut names: Vec<&str> = snap.queues.iter().map(|q| q.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "b", "sales"]);
        assert!(fast.try_recv().is_err());
    }

    #[test]
    fn consoles_that_catch_up_at_different_times_share_one_snapshot() {
        let registry = Registry::default();
        let mut hub = hub_with_queues(&["sales"]);
        let mut slow = [
            joined(&mut hub, 1, Visibility::All, 2),
            joined(&mut hub, 2, Visibility::All, 2),
        ];
        let _fast = joined(&mut hub, 3, Visibility::All, 64);
        hub.fan_out(&registry);
        let add = |hub: &mut Hub, name: &str| {
            hub.pbxs[0]
                .state
                .queues
                .insert(name.into(), Queue::new(name));
            hub.pbxs[0].changed = true;
            hub.fan_out(&registry);
        };
        // Both fall behind: their queues fill and a change finds no room.
        for name in ["a", "b", "c"] {
            add(&mut hub, name);
        }
        let drain = |rx: &mut mpsc::Receiver<Bytes>| {
            std::iter::from_fn(|| rx.try_recv().ok()).collect::<Vec<_>>()
        };
        drain(&mut slow[0]);
        // The first reads again: it is sent a snapshot.
        add(&mut hub, "d");
        let first = drain(&mut slow[0]);
        // The second reads again one change later: the same snapshot's
        // bytes, then that change.
        add(&mut hub, "e");
        drain(&mut slow[1]);
        hub.fan_out(&registry);
        let second = drain(&mut slow[1]);
        let live_frames = |frames: &[Bytes]| -> Vec<Bytes> {
            frames
                .iter()
                .filter(|f| {
                    matches!(
                        super::super::protocol::decode::<ToConsole>(f),
                        Ok(ToConsole::Live(_))
                    )
                })
                .cloned()
                .collect()
        };
        let (first, second) = (live_frames(&first), live_frames(&second));
        assert_eq!(first.len(), 1, "a snapshot");
        assert_eq!(second.len(), 2, "the snapshot and the change since");
        assert_eq!(
            first[0].as_ptr(),
            second[0].as_ptr(),
            "one snapshot's bytes for both"
        );
        // Each ends holding what the PBX holds.
        let mut console = State::new();
        for f in &second {
            for d in deltas(f) {
                d.apply(&mut console);
            }
        }
        let mut names: Vec<&String> = console.queues.keys().collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "b", "c", "d", "e", "sales"]);
        // Nobody is behind any more: the catch-up is let go.
        assert!(hub.groups[0].catch_up.is_empty());
    }

    #[test]
    fn a_link_state_missed_while_behind_is_told_again_before_the_snapshot() {
        let registry = Registry::default();
        let mut hub = hub_with_queues(&["sales"]);
        let mut slow = joined(&mut hub, 1, Visibility::All, 1);
        hub.fan_out(&registry);
        // Its queue is full (the snapshot unread) when the link comes up.
        hub.pbxs[0].conn = ConnectionState::Ready;
        let link = ToConsole::Link {
            pbx: 0,
            conn: ConnectionState::Ready,
            health: LinkHealth::default(),
        };
        hub.broadcast(&link, &registry);
        assert!(live(&slow.try_recv().unwrap_or_default()).reset);
        assert!(slow.try_recv().is_err(), "the link's state found no room");
        // Its queue takes one frame: the link's state comes first, the
        // snapshot at the next fan-out.
        hub.fan_out(&registry);
        match super::super::protocol::decode::<ToConsole>(&slow.try_recv().unwrap_or_default()) {
            Ok(ToConsole::Link { conn, .. }) => assert_eq!(conn, ConnectionState::Ready),
            other => panic!("{other:?}"),
        }
        hub.fan_out(&registry);
        assert!(live(&slow.try_recv().unwrap_or_default()).reset);
    }

    #[test]
    fn consoles_with_the_same_rights_share_one_copy() {
        let mut hub = hub_with_queues(&["sales", "support"]);
        let restricted = Visibility::Restricted {
            extensions: vec![],
            queues: vec!["sales".into()],
        };
        let mut rx: Vec<mpsc::Receiver<Bytes>> = [
            (1, Visibility::All),
            (2, restricted.clone()),
            (3, restricted),
        ]
        .into_iter()
        .map(|(id, visibility)| joined(&mut hub, id, visibility, 4))
        .collect();
        assert_eq!(hub.groups.len(), 2);
        hub.fan_out(&Registry::default());
        let queues =
            |r: &mut mpsc::Receiver<Bytes>| live(&r.try_recv().unwrap_or_default()).queues.len();
        assert_eq!(queues(&mut rx[0]), 2);
        assert_eq!(queues(&mut rx[1]), 1);
        assert_eq!(queues(&mut rx[2]), 1);
        drop(rx.pop());
        drop(rx.pop());
        hub.broadcast(
            &ToConsole::Link {
                pbx: 0,
                conn: ConnectionState::Ready,
                health: LinkHealth::default(),
            },
            &Registry::default(),
        );
        assert_eq!(hub.groups.len(), 1, "a group whose consoles left is gone");
    }
}
