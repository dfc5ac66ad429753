//! `State`: the call centre as AMI events describe it. A pure reducer: no I/O,
//! no clock; time comes in with each event (`at_ms`, ms since epoch, UTC).
//!
//! Resync: after every (re)connect the connection runs snapshot lists while
//! live events keep flowing. [`State::begin_resync`] starts a new generation;
//! everything a snapshot item or a live event touches is stamped with it; each
//! list's `...Complete` event removes what the generation did not touch. A
//! channel or caller that ends during the resync is remembered (tombstone) so
//! a snapshot item that raced with its end does not bring it back.

use super::callers::QueueCaller;
use super::channel::{Bridge, Channel};
use super::device::DeviceState;
use super::extension::Extension;
use super::queue::{Queue, QueueMember};
use crate::ami::{AmiMsg, ConnectionState, Message};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;

/// The reduced PBX state. See the module docs for the resync rules.
///
/// Maps keyed by Asterisk ids use the Fx hash: the keys come from the PBX
/// (not from untrusted users) and hashing is on the reducer's hot path.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// Live channels by `Uniqueid`.
    pub channels: FxHashMap<String, Channel>,
    /// Live bridges by `BridgeUniqueid`.
    pub bridges: FxHashMap<String, Bridge>,
    /// Queues by name (hashed: a call centre with thousands of queues must
    /// not pay a tree walk per queue event; sort where order shows).
    pub queues: FxHashMap<String, Queue>,
    /// Extensions by device (`PJSIP/301`).
    pub extensions: BTreeMap<String, Extension>,
    /// Events applied since creation.
    pub events_applied: u64,
    /// Which queue each waiting caller (by `Uniqueid`) is in, so a `Hangup`
    /// finds its caller without visiting every queue.
    caller_queue: FxHashMap<String, String>,
    generation: u64,
    resyncing: bool,
    tombstones: FxHashSet<String>,
}

/// Which kind of event carries a channel-state block.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// `Newchannel`: creates the channel.
    New,
    /// `CoreShowChannel`: creates or refreshes it, unless it ended meanwhile.
    Snapshot,
    /// Any other event: updates a known channel only.
    Update,
}

/// Device technologies shown as extensions when seen in `DeviceStateChange`.
const PHONE_TECHS: [&str; 5] = ["PJSIP/", "SIP/", "IAX2/", "DAHDI/", "SCCP/"];

/// The channel-state block every channel event carries, read in one pass.
#[derive(Default)]
struct ChannelBlock<'a> {
    channel: Option<&'a str>,
    uniqueid: Option<&'a str>,
    linkedid: Option<&'a str>,
    state: Option<&'a str>,
    caller_num: Option<&'a str>,
    caller_name: Option<&'a str>,
    connected_num: Option<&'a str>,
    connected_name: Option<&'a str>,
    context: Option<&'a str>,
    exten: Option<&'a str>,
    application: Option<&'a str>,
    bridge: Option<&'a str>,
    duration: Option<&'a str>,
}

impl<'a> ChannelBlock<'a> {
    fn read(m: &'a Message) -> Self {
        let mut b = ChannelBlock::default();
        for (k, v) in m.headers() {
            // Dispatch on length first: one comparison per header instead of
            // one per arm (this runs for every channel event).
            let slot = match k.len() {
                5 if k == "Exten" => &mut b.exten,
                7 if k == "Channel" => &mut b.channel,
                7 if k == "Context" => &mut b.context,
                8 => match k.as_bytes()[0] {
                    b'U' if k == "Uniqueid" => &mut b.uniqueid,
                    b'L' if k == "Linkedid" => &mut b.linkedid,
                    b'B' if k == "BridgeId" => &mut b.bridge,
                    b'D' if k == "Duration" => &mut b.duration,
                    _ => continue,
                },
                11 if k == "CallerIDNum" => &mut b.caller_num,
                11 if k == "Application" => &mut b.application,
                12 if k == "CallerIDName" => &mut b.caller_name,
                12 if k == "ChannelState" => &mut b.state,
                16 if k == "ConnectedLineNum" => &mut b.connected_num,
                17 if k == "ConnectedLineName" => &mut b.connected_name,
                _ => continue,
            };
            *slot = Some(v);
        }
        b
    }
}

fn set(field: &mut String, v: Option<&str>) {
    if let Some(v) = v
        && field != v
    {
        field.clear();
        field.push_str(v);
    }
}

/// Asterisk's `<unknown>` placeholder for an empty caller ID part, as empty.
fn known(v: Option<&str>) -> Option<&str> {
    v.map(|s| if s == "<unknown>" { "" } else { s })
}

fn num<T: std::str::FromStr + Default>(v: &str) -> T {
    v.trim().parse().unwrap_or_default()
}

/// A counter from AMI (`Completed`, `CallsTaken`...): a value past `u32::MAX`
/// saturates there instead of reading as 0; garbage reads as 0.
fn count(v: &str) -> u32 {
    let v = v.trim();
    match v.parse::<u32>() {
        Ok(n) => n,
        Err(_) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => u32::MAX,
        Err(_) => 0,
    }
}

/// `HH:MM:SS` (CoreShowChannel `Duration`) in seconds, saturating.
fn hms(v: &str) -> i64 {
    v.split(':').fold(0i64, |acc, p| {
        acc.saturating_mul(60).saturating_add(num::<i64>(p))
    })
}

impl State {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a resync generation (call when the connection reports
    /// `Resyncing`, and once before replaying a capture).
    pub fn begin_resync(&mut self) {
        self.generation += 1;
        self.resyncing = true;
        self.tombstones.clear();
    }

    /// Applies one AMI event received at `at_ms`. Returns true when the state
    /// changed (the console redraws only then). Unknown events, responses and
    /// malformed events are ignored.
    pub fn apply(&mut self, m: &Message, at_ms: i64) -> bool {
        let Some(name) = m.event_name() else {
            return false;
        };
        self.events_applied += 1;
        match name {
            "Newchannel" => self.upsert_channel(m, at_ms, Origin::New),
            "Newstate" | "NewCallerid" | "NewConnectedLine" | "Newexten" => {
                self.upsert_channel(m, at_ms, Origin::Update)
            }
            "CoreShowChannel" => self.upsert_channel(m, at_ms, Origin::Snapshot),
            "Hangup" => self.hangup(m),
            "Rename" => self.rename(m),
            "Hold" | "Unhold" => self.hold(m, name == "Hold"),
            "ChanSpyStart" | "ChanSpyStop" => self.spy(m, name == "ChanSpyStart"),
            "BridgeCreate" | "BridgeListItem" => self.upsert_bridge(m),
            "BridgeDestroy" => self.bridges.remove(m.str("BridgeUniqueid")).is_some(),
            "BridgeEnter" | "BridgeLeave" => self.bridge_member(m, at_ms, name == "BridgeEnter"),
            "QueueParams" => self.queue_params(m, at_ms),
            "QueueMember"
            | "QueueMemberStatus"
            | "QueueMemberAdded"
            | "QueueMemberPause"
            | "QueueMemberPenalty"
            | "QueueMemberRinginuse" => self.upsert_member(m, at_ms),
            "QueueMemberRemoved" => self.remove_member(m, at_ms),
            "QueueEntry" | "QueueCallerJoin" => self.upsert_caller(m, at_ms, name == "QueueEntry"),
            "QueueCallerLeave" | "QueueCallerAbandon" => {
                self.remove_caller(m, name == "QueueCallerAbandon")
            }
            "AgentComplete" => self.agent_complete(m, at_ms),
            "DeviceStateChange" => self.device_state(m, at_ms),
            "ExtensionStatus" => self.extension_status(m, at_ms),
            "EndpointList" => self.endpoint(m, at_ms),
            "CoreShowChannelsComplete" => self.prune_channels(),
            "QueueStatusComplete" => self.prune_queues(),
            "ExtensionStateListComplete" => self.prune_extensions(),
            "BridgeListComplete" => self.prune_bridges(),
            "DeviceStateListComplete" | "EndpointListComplete" => false,
            _ => false,
        }
    }

    /// Creates or updates a channel from its channel-state block. Only
    /// `Newchannel` and the snapshot create one: other events can arrive after
    /// the channel's `Hangup` (a bridge's events travel on another topic than
    /// the channel's), and must not bring it back.
    fn upsert_channel(&mut self, m: &Message, at_ms: i64, origin: Origin) -> bool {
        let b = ChannelBlock::read(m);
        let Some(uid) = b.uniqueid.filter(|u| !u.is_empty()) else {
            return false;
        };
        let snapshot = origin == Origin::Snapshot;
        if snapshot && self.tombstones.contains(uid) {
            return false;
        }
        let generation = self.generation;
        let ch = match self.channels.get_mut(uid) {
            Some(ch) => ch,
            None if origin == Origin::Update => return false,
            None => {
                let created_ms = if snapshot {
                    at_ms.saturating_sub(b.duration.map(hms).unwrap_or(0).saturating_mul(1000))
                } else {
                    at_ms
                };
                self.channels
                    .entry(uid.to_string())
                    .or_insert_with(|| Channel {
                        uniqueid: uid.to_string(),
                        created_ms,
                        ..Channel::default()
                    })
            }
        };
        ch.seen = generation;
        set(&mut ch.name, b.channel);
        set(&mut ch.linkedid, b.linkedid);
        if let Some(s) = b.state {
            ch.state = num(s);
        }
        set(&mut ch.caller_num, known(b.caller_num));
        set(&mut ch.caller_name, known(b.caller_name));
        set(&mut ch.connected_num, known(b.connected_num));
        set(&mut ch.connected_name, known(b.connected_name));
        set(&mut ch.context, b.context);
        set(&mut ch.exten, b.exten);
        set(&mut ch.application, b.application);
        if snapshot {
            set(&mut ch.bridge, b.bridge);
        }
        true
    }

    fn hangup(&mut self, m: &Message) -> bool {
        let uid = m.str("Uniqueid");
        if self.resyncing {
            self.tombstones.insert(uid.to_string());
        }
        // A caller whose QueueCallerLeave we missed must not wait forever.
        if let Some(queue) = self.caller_queue.remove(uid)
            && let Some(q) = self.queues.get_mut(&queue)
        {
            q.callers.remove(uid);
        }
        self.channels.remove(uid).is_some()
    }

    fn rename(&mut self, m: &Message) -> bool {
        match self.channels.get_mut(m.str("Uniqueid")) {
            Some(ch) => {
                set(&mut ch.name, m.get("Newname"));
                true
            }
            None => false,
        }
    }

    fn hold(&mut self, m: &Message, on: bool) -> bool {
        match self.channels.get_mut(m.str("Uniqueid")) {
            Some(ch) => {
                ch.on_hold = on;
                true
            }
            None => false,
        }
    }

    /// `ChanSpyStart`/`ChanSpyStop`: the spyer channel's `spying`.
    fn spy(&mut self, m: &Message, start: bool) -> bool {
        match self.channels.get_mut(m.str("SpyerUniqueid")) {
            Some(ch) => {
                ch.spying = if start {
                    m.str("SpyeeChannel").to_string()
                } else {
                    String::new()
                };
                true
            }
            None => false,
        }
    }

    fn upsert_bridge(&mut self, m: &Message) -> bool {
        let id = m.str("BridgeUniqueid");
        if id.is_empty() {
            return false;
        }
        let generation = self.generation;
        let b = self
            .bridges
            .entry(id.to_string())
            .or_insert_with(|| Bridge {
                id: id.to_string(),
                ..Bridge::default()
            });
        set(&mut b.kind, m.get("BridgeType"));
        b.seen = generation;
        true
    }

    fn bridge_member(&mut self, m: &Message, at_ms: i64, enter: bool) -> bool {
        let changed = self.upsert_channel(m, at_ms, Origin::Update);
        let bridge = m.str("BridgeUniqueid");
        if let Some(ch) = self.channels.get_mut(m.str("Uniqueid")) {
            if enter {
                set(&mut ch.bridge, Some(bridge));
            } else if ch.bridge == bridge {
                ch.bridge.clear();
            }
        }
        if enter {
            self.upsert_bridge(m);
        }
        changed
    }

    fn queue(&mut self, name: &str) -> &mut Queue {
        let generation = self.generation;
        let q = self
            .queues
            .entry(name.to_string())
            .or_insert_with(|| Queue::new(name));
        q.seen = generation;
        q
    }

    fn queue_params(&mut self, m: &Message, at_ms: i64) -> bool {
        let name = m.str("Queue");
        if name.is_empty() {
            return false;
        }
        let q = self.queue(name);
        q.recent.watch_from(at_ms);
        for (k, v) in m.headers() {
            match k {
                "Strategy" => set(&mut q.strategy, Some(v)),
                "Max" => q.max = count(v),
                "ServiceLevel" => q.service_level_s = count(v),
                "Weight" => q.weight = num(v),
                "Completed" => q.completed = count(v),
                "Abandoned" => q.abandoned = count(v),
                "Holdtime" => q.holdtime_s = count(v),
                "TalkTime" => q.talktime_s = count(v),
                _ => {}
            }
        }
        // app_queue: ServicelevelPerf = completed in SL / completed × 100;
        // ServicelevelPerf2 = (completed + abandoned in SL) / (completed +
        // abandoned) × 100. `as` saturates a float (NaN reads 0): absurd
        // counters never wrap.
        let share = |perf: f64, of: f64| (perf.clamp(0.0, 100.0) * of / 100.0).round() as u32;
        let finished = f64::from(q.completed) + f64::from(q.abandoned);
        q.completed_in_sl = share(num(m.str("ServicelevelPerf")), f64::from(q.completed));
        q.abandoned_in_sl = share(num(m.str("ServicelevelPerf2")), finished)
            .saturating_sub(q.completed_in_sl)
            .min(q.abandoned);
        true
    }

    fn upsert_member(&mut self, m: &Message, at_ms: i64) -> bool {
        let queue = m.str("Queue");
        let interface = m.get("Interface").or(m.get("Location")).unwrap_or("");
        if queue.is_empty() || interface.is_empty() {
            return false;
        }
        let generation = self.generation;
        let q = self.queue(queue);
        let mem = q
            .members
            .entry(interface.to_string())
            .or_insert_with(|| QueueMember {
                interface: interface.to_string(),
                ..QueueMember::default()
            });
        mem.seen = generation;
        let before = (
            mem.paused,
            mem.paused_reason.clone(),
            mem.state_interface.clone(),
        );
        for (k, v) in m.headers() {
            match k {
                "Name" | "MemberName" => set(&mut mem.name, Some(v)),
                "StateInterface" => set(&mut mem.state_interface, Some(v)),
                "Membership" => set(&mut mem.membership, Some(v)),
                "Penalty" => mem.penalty = num(v),
                "CallsTaken" => mem.calls_taken = count(v),
                "LastCall" => mem.last_call = num(v),
                "LastPause" => mem.last_pause = num(v),
                "LoginTime" => mem.login_time = num(v),
                "InCall" => mem.in_call = v == "1",
                "Status" => mem.status = DeviceState::from_code(v),
                "Paused" => mem.paused = v == "1",
                "PausedReason" => set(&mut mem.paused_reason, Some(v)),
                "Wrapuptime" => mem.wrapup_time_s = count(v),
                _ => {}
            }
        }
        let pause_changed = before.0 != mem.paused
            || before.1 != mem.paused_reason
            || before.2 != mem.state_interface;
        let (device, name) = (mem.state_interface.clone(), mem.name.clone());
        let unnamed = self
            .extensions
            .get(&device)
            .is_some_and(|e| e.name.is_empty());
        if pause_changed || unnamed {
            self.sync_extension_pause(&device, &name, at_ms);
        }
        if before.2 != device && !before.2.is_empty() {
            self.sync_extension_pause(&before.2, "", at_ms);
        }
        true
    }

    fn remove_member(&mut self, m: &Message, at_ms: i64) -> bool {
        let Some(q) = self.queues.get_mut(m.str("Queue")) else {
            return false;
        };
        let Some(mem) = q.members.remove(m.str("Interface")) else {
            return false;
        };
        self.sync_extension_pause(&mem.state_interface, "", at_ms);
        true
    }

    /// Recomputes the pause of the extension on `device` from every queue.
    fn sync_extension_pause(&mut self, device: &str, member_name: &str, at_ms: i64) {
        if !self.extensions.contains_key(device) {
            return;
        }
        let reason = self.pause_of(device);
        let Some(ext) = self.extensions.get_mut(device) else {
            return;
        };
        if ext.name.is_empty() && !member_name.is_empty() {
            ext.name = member_name.to_string();
        }
        ext.paused_reason = reason;
        ext.refresh(at_ms);
    }

    fn upsert_caller(&mut self, m: &Message, at_ms: i64, snapshot: bool) -> bool {
        let b = ChannelBlock::read(m);
        let (Some(uid), queue) = (b.uniqueid, m.str("Queue")) else {
            return false;
        };
        if queue.is_empty() || (snapshot && self.tombstones.contains(uid)) {
            return false;
        }
        let position = count(m.str("Position"));
        let generation = self.generation;
        // A caller moved to another queue leaves the first one.
        if let Some(old) = self.caller_queue.get(uid)
            && old != queue
            && let Some(q) = self.queues.get_mut(old)
        {
            q.callers.remove(uid);
        }
        let q = self.queue(queue);
        let known_caller = q.callers.remove(uid);
        if known_caller.is_none() && !snapshot {
            // A new arrival (a caller already waiting at a snapshot arrived
            // before the console watched).
            q.recent.arrival(at_ms);
        }
        let mut caller = known_caller.unwrap_or_else(|| QueueCaller {
            uniqueid: uid.to_string(),
            joined_ms: at_ms,
            ..QueueCaller::default()
        });
        caller.seen = generation;
        set(&mut caller.channel, b.channel);
        set(&mut caller.caller_num, known(b.caller_num));
        set(&mut caller.caller_name, known(b.caller_name));
        if snapshot {
            // A snapshot entry's position is exact as it is: the others may
            // be stale (events lost before a resync) and are pruned when the
            // snapshot completes.
            caller.joined_ms = at_ms.saturating_sub(num::<i64>(m.str("Wait")).saturating_mul(1000));
            q.callers.place(caller, position);
        } else {
            // A live joiner goes to its position; those at or behind it move back.
            q.callers.join(caller, position);
        }
        self.caller_queue.insert(uid.to_string(), queue.to_string());
        true
    }

    fn remove_caller(&mut self, m: &Message, abandoned: bool) -> bool {
        let uid = m.str("Uniqueid");
        if self.resyncing {
            self.tombstones.insert(uid.to_string());
        }
        let Some(q) = self.queues.get_mut(m.str("Queue")) else {
            return false;
        };
        if abandoned {
            q.abandoned = q.abandoned.saturating_add(1);
            if count(m.str("HoldTime")) <= q.service_level_s {
                q.abandoned_in_sl = q.abandoned_in_sl.saturating_add(1);
            }
        }
        if q.callers.remove(uid).is_some() {
            self.caller_queue.remove(uid);
        }
        true
    }

    fn agent_complete(&mut self, m: &Message, at_ms: i64) -> bool {
        let Some(q) = self.queues.get_mut(m.str("Queue")) else {
            return false;
        };
        q.recent.completion(at_ms, count(m.str("TalkTime")));
        q.completed = q.completed.saturating_add(1);
        if count(m.str("HoldTime")) <= q.service_level_s {
            q.completed_in_sl = q.completed_in_sl.saturating_add(1);
        }
        true
    }

    fn extension(&mut self, device: &str, at_ms: i64) -> &mut Extension {
        let generation = self.generation;
        let e = self
            .extensions
            .entry(device.to_string())
            .or_insert_with(|| Extension::new(device, at_ms));
        e.seen = generation;
        e
    }

    /// The pause reason of the member on `device` that is paused, in the
    /// first queue by name. Scans every member: called only when pause data
    /// changes or an extension appears, never per device-state event.
    fn pause_of(&self, device: &str) -> Option<String> {
        self.queues
            .values()
            .filter_map(|q| {
                q.members
                    .values()
                    .find(|m| m.paused && m.state_interface.eq_ignore_ascii_case(device))
                    .map(|m| (&q.name, &m.paused_reason))
            })
            .min()
            .map(|(_, reason)| reason.clone())
    }

    fn set_device_state(&mut self, device: &str, state: DeviceState, at_ms: i64) {
        let new = !self.extensions.contains_key(device);
        let paused = if new { self.pause_of(device) } else { None };
        let e = self.extension(device, at_ms);
        e.device_state = state;
        if new {
            e.paused_reason = paused;
        }
        e.refresh(at_ms);
    }

    fn device_state(&mut self, m: &Message, at_ms: i64) -> bool {
        let device = m.str("Device");
        let known_device = self.extensions.contains_key(device);
        if !known_device && !PHONE_TECHS.iter().any(|t| device.starts_with(t)) {
            return false;
        }
        self.set_device_state(device, DeviceState::from_text(m.str("State")), at_ms);
        true
    }

    fn extension_status(&mut self, m: &Message, at_ms: i64) -> bool {
        let hint = m.str("Hint");
        let device = hint.split('&').next().unwrap_or("").trim();
        if device.is_empty() {
            return false;
        }
        let status = m.str("StatusText");
        if status.eq_ignore_ascii_case("Removed") || status.eq_ignore_ascii_case("Deleted") {
            return self.extensions.remove(device).is_some();
        }
        let e = self.extension(device, at_ms);
        set(&mut e.exten, m.get("Exten"));
        set(&mut e.context, m.get("Context"));
        self.set_device_state(device, DeviceState::from_text(status), at_ms);
        true
    }

    fn endpoint(&mut self, m: &Message, at_ms: i64) -> bool {
        let name = m.str("ObjectName");
        if name.is_empty() {
            return false;
        }
        let device = format!("PJSIP/{name}");
        self.set_device_state(&device, DeviceState::from_text(m.str("DeviceState")), at_ms);
        true
    }

    fn prune_channels(&mut self) -> bool {
        let g = self.generation;
        let before = self.channels.len();
        self.channels.retain(|_, c| c.seen >= g);
        before != self.channels.len()
    }

    fn prune_queues(&mut self) -> bool {
        let g = self.generation;
        self.queues.retain(|_, q| q.seen >= g);
        for q in self.queues.values_mut() {
            q.members.retain(|_, m| m.seen >= g);
            q.callers.retain(|c| c.seen >= g);
        }
        let queues = &self.queues;
        self.caller_queue.retain(|uid, queue| {
            queues
                .get(queue)
                .is_some_and(|q| q.callers.get(uid).is_some())
        });
        true
    }

    fn prune_extensions(&mut self) -> bool {
        let g = self.generation;
        self.extensions.retain(|_, e| e.seen >= g);
        true
    }

    fn prune_bridges(&mut self) -> bool {
        let g = self.generation;
        self.bridges.retain(|_, b| b.seen >= g);
        true
    }

    /// Ends the resync generation (connection reported Ready).
    pub fn end_resync(&mut self) {
        self.resyncing = false;
        self.tombstones.clear();
    }

    /// Applies a message from the AMI connection (or a replay): `Resyncing`
    /// starts a generation, `Ready` ends it, events are applied. Returns true
    /// when the state changed.
    pub fn handle(&mut self, msg: &AmiMsg) -> bool {
        match msg {
            AmiMsg::Event(e) => self.apply(&e.message, e.at_ms),
            AmiMsg::State(ConnectionState::Resyncing) => {
                self.begin_resync();
                false
            }
            AmiMsg::State(ConnectionState::Ready) => {
                self.end_resync();
                false
            }
            AmiMsg::State(_) => false,
        }
    }

    /// True between [`State::begin_resync`] and [`State::end_resync`].
    pub fn is_resyncing(&self) -> bool {
        self.resyncing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pbx::ExtensionState;
    use crate::service_level::SlVariant;

    fn ev(name: &str, headers: &[(&str, &str)]) -> Message {
        let mut m = Message::default();
        m.push("Event", name);
        for (k, v) in headers {
            m.push(k, v);
        }
        m
    }

    fn newchannel(uid: &str) -> Message {
        ev(
            "Newchannel",
            &[
                ("Channel", &format!("PJSIP/{uid}")),
                ("Uniqueid", uid),
                ("Linkedid", uid),
                ("ChannelState", "4"),
            ],
        )
    }

    #[test]
    fn resync_prunes_vanished_channels_and_keeps_new_ones() {
        let mut s = State::new();
        s.apply(&newchannel("1.1"), 0);
        s.apply(&newchannel("1.2"), 0);
        s.begin_resync();
        // Live during the resync: a new channel, and 1.2 hangs up.
        s.apply(&newchannel("1.3"), 10);
        s.apply(&ev("Hangup", &[("Uniqueid", "1.2")]), 11);
        // The snapshot raced: it still lists 1.2, and 1.1 is gone.
        s.apply(
            &ev(
                "CoreShowChannel",
                &[
                    ("Channel", "PJSIP/1.2"),
                    ("Uniqueid", "1.2"),
                    ("Linkedid", "1.2"),
                ],
            ),
            12,
        );
        s.apply(&ev("CoreShowChannelsComplete", &[]), 13);
        s.end_resync();
        let mut ids: Vec<&str> = s.channels.keys().map(String::as_str).collect();
        ids.sort();
        assert_eq!(ids, ["1.3"]);
    }

    #[test]
    fn late_bridge_events_do_not_resurrect_a_channel() {
        let mut s = State::new();
        s.apply(&newchannel("1.1"), 0);
        s.apply(&ev("Hangup", &[("Uniqueid", "1.1")]), 1);
        s.apply(
            &ev(
                "BridgeLeave",
                &[
                    ("BridgeUniqueid", "b"),
                    ("Channel", "PJSIP/1.1"),
                    ("Uniqueid", "1.1"),
                ],
            ),
            2,
        );
        s.apply(
            &ev("Newstate", &[("Uniqueid", "1.1"), ("ChannelState", "6")]),
            3,
        );
        assert!(s.channels.is_empty());
    }

    #[test]
    fn callers_keep_positions_and_abandons_count() {
        let mut s = State::new();
        for (uid, pos) in [("a", "1"), ("b", "2"), ("c", "3")] {
            s.apply(
                &ev(
                    "QueueCallerJoin",
                    &[
                        ("Queue", "sales"),
                        ("Uniqueid", uid),
                        ("Position", pos),
                        ("CallerIDName", "Zoë"),
                    ],
                ),
                0,
            );
        }
        s.apply(
            &ev(
                "QueueCallerAbandon",
                &[("Queue", "sales"), ("Uniqueid", "a")],
            ),
            5,
        );
        let q = &s.queues["sales"];
        let order: Vec<(&str, u32)> = q
            .callers
            .positioned()
            .map(|(p, c)| (c.uniqueid.as_str(), p))
            .collect();
        assert_eq!(order, [("b", 1), ("c", 2)]);
        assert_eq!(q.abandoned, 1);
        // A caller whose Leave was missed goes with its channel's Hangup.
        s.apply(&ev("Hangup", &[("Uniqueid", "b")]), 6);
        let q = &s.queues["sales"];
        assert_eq!(
            q.callers
                .positioned()
                .map(|(p, c)| (p, c.uniqueid.as_str()))
                .collect::<Vec<_>>(),
            [(1, "c")]
        );
    }

    #[test]
    fn member_pause_shows_on_the_extension_with_its_reason() {
        let mut s = State::new();
        s.apply(
            &ev(
                "DeviceStateChange",
                &[("Device", "PJSIP/301"), ("State", "NOT_INUSE")],
            ),
            0,
        );
        let member = |paused: &str, reason: &str| {
            ev(
                "QueueMemberPause",
                &[
                    ("Queue", "support"),
                    ("Interface", "PJSIP/301"),
                    ("StateInterface", "PJSIP/301"),
                    ("MemberName", "Desk 301"),
                    ("Paused", paused),
                    ("PausedReason", reason),
                    ("Status", "1"),
                ],
            )
        };
        s.apply(&member("1", "Lunch"), 1_000);
        let e = &s.extensions["PJSIP/301"];
        assert_eq!(e.state, ExtensionState::Paused("Lunch".into()));
        assert_eq!((e.name.as_str(), e.since_ms), ("Desk 301", 1_000));
        s.apply(
            &ev(
                "DeviceStateChange",
                &[("Device", "PJSIP/301"), ("State", "INUSE")],
            ),
            2_000,
        );
        assert_eq!(s.extensions["PJSIP/301"].state, ExtensionState::InCall);
        s.apply(
            &ev(
                "DeviceStateChange",
                &[("Device", "PJSIP/301"), ("State", "NOT_INUSE")],
            ),
            3_000,
        );
        assert_eq!(
            s.extensions["PJSIP/301"].state,
            ExtensionState::Paused("Lunch".into())
        );
        s.apply(&member("0", ""), 4_000);
        assert_eq!(s.extensions["PJSIP/301"].state, ExtensionState::Idle);
        assert_eq!(s.extensions["PJSIP/301"].since_ms, 4_000);
    }

    #[test]
    fn service_level_counts_follow_app_queue() {
        let mut s = State::new();
        // SL 75 % of 8 completed = 6 in SL; SL2 70 % of 10 = 7 in SL, so 1
        // of the 2 abandoned hung up within the service level.
        s.apply(
            &ev(
                "QueueParams",
                &[
                    ("Queue", "sales"),
                    ("ServiceLevel", "20"),
                    ("Completed", "8"),
                    ("Abandoned", "2"),
                    ("ServicelevelPerf", "75.0"),
                    ("ServicelevelPerf2", "70.0"),
                ],
            ),
            0,
        );
        let q = &s.queues["sales"];
        assert_eq!((q.completed_in_sl, q.abandoned_in_sl), (6, 1));
        s.apply(
            &ev("AgentComplete", &[("Queue", "sales"), ("HoldTime", "5")]),
            1,
        );
        s.apply(
            &ev("AgentComplete", &[("Queue", "sales"), ("HoldTime", "45")]),
            2,
        );
        for hold in ["20", "21"] {
            s.apply(
                &ev(
                    "QueueCallerAbandon",
                    &[("Queue", "sales"), ("Uniqueid", "x"), ("HoldTime", hold)],
                ),
                3,
            );
        }
        let q = &s.queues["sales"];
        assert_eq!(
            (
                q.completed,
                q.completed_in_sl,
                q.abandoned,
                q.abandoned_in_sl
            ),
            (10, 7, 4, 2)
        );
        let c = q.sl_counts();
        assert_eq!(c.percent(SlVariant::Sl), Some(70.0));
        assert_eq!(c.percent(SlVariant::Sl2).map(|v| v.round()), Some(64.0));
    }

    #[test]
    fn staffing_advice_follows_the_recent_load() {
        let mut s = State::new();
        let min = 60_000;
        s.apply(
            &ev("QueueParams", &[("Queue", "sales"), ("ServiceLevel", "20")]),
            0,
        );
        // Callers already waiting at the snapshot arrived before the console
        // watched: not arrivals.
        s.apply(
            &ev(
                "QueueEntry",
                &[("Queue", "sales"), ("Uniqueid", "old"), ("Position", "1")],
            ),
            0,
        );
        // Two joins a minute for 30 minutes, each talked 60 s: 2 erlangs.
        for i in 0..60 {
            let uid = format!("c{i}");
            let at = i * min / 2;
            s.apply(
                &ev(
                    "QueueCallerJoin",
                    &[("Queue", "sales"), ("Uniqueid", &uid), ("Position", "1")],
                ),
                at,
            );
            // Seen again (a second join event for the same caller): once.
            s.apply(
                &ev(
                    "QueueCallerJoin",
                    &[("Queue", "sales"), ("Uniqueid", &uid), ("Position", "1")],
                ),
                at + 1,
            );
            s.apply(
                &ev(
                    "AgentComplete",
                    &[("Queue", "sales"), ("HoldTime", "3"), ("TalkTime", "60")],
                ),
                at + 1000,
            );
        }
        let now = 30 * min;
        let load = s.queues["sales"].recent.load(now, 30 * min);
        let load = load.unwrap_or_else(|| panic!("no load"));
        assert!((load.rate * 60.0 - 2.0).abs() < 1e-9, "{load:?}");
        assert_eq!(load.aht_s, 60.0);
        let t = crate::pbx::HealthThresholds::default();
        let f = s.queues["sales"].figures(now, &t, SlVariant::Sl2);
        // 2 erlangs, 80 % within 20 s, AHT 60 s: Erlang C asks for 4.
        assert_eq!(f.agents_needed, Some(4));
        // Nobody on duty: the forecast is 0 %.
        assert_eq!(f.forecast_sl, Some(0.0));
        // Less than a minute watched: no advice.
        let mut fresh = State::new();
        fresh.apply(&ev("QueueParams", &[("Queue", "q")]), 0);
        assert_eq!(
            fresh.queues["q"]
                .figures(30_000, &t, SlVariant::Sl2)
                .agents_needed,
            None
        );
        // An hour later nothing is left of the window: no advice.
        assert_eq!(
            s.queues["sales"]
                .figures(now + 60 * min, &t, SlVariant::Sl2)
                .agents_needed,
            None
        );
    }

    #[test]
    fn after_lost_events_the_snapshot_order_of_callers_wins() {
        let mut s = State::new();
        let join = |uid: &str, pos: &str| {
            ev(
                "QueueCallerJoin",
                &[("Queue", "sales"), ("Uniqueid", uid), ("Position", pos)],
            )
        };
        let entry = |uid: &str, pos: &str| {
            ev(
                "QueueEntry",
                &[
                    ("Queue", "sales"),
                    ("Uniqueid", uid),
                    ("Position", pos),
                    ("Wait", "3"),
                ],
            )
        };
        for (uid, pos) in [("a", "1"), ("b", "2"), ("c", "3")] {
            s.apply(&join(uid, pos), 0);
        }
        // Events were lost; Asterisk now has x, c, y.
        s.begin_resync();
        s.apply(&ev("QueueParams", &[("Queue", "sales")]), 10_000);
        for (uid, pos) in [("x", "1"), ("c", "2"), ("y", "3")] {
            s.apply(&entry(uid, pos), 10_000);
        }
        s.apply(&ev("QueueStatusComplete", &[]), 10_000);
        let q = &s.queues["sales"];
        let order: Vec<(&str, u32)> = q
            .callers
            .positioned()
            .map(|(p, c)| (c.uniqueid.as_str(), p))
            .collect();
        assert_eq!(order, [("x", 1), ("c", 2), ("y", 3)]);
        assert_eq!(
            q.callers.get("x").map(|c| c.joined_ms),
            Some(7_000),
            "joined = receive time - Wait"
        );
    }

    #[test]
    fn queue_snapshot_prunes_members_and_callers_not_listed() {
        let mut s = State::new();
        s.apply(
            &ev(
                "QueueMemberAdded",
                &[("Queue", "sales"), ("Interface", "Local/201@agents/n")],
            ),
            0,
        );
        s.apply(
            &ev(
                "QueueCallerJoin",
                &[("Queue", "sales"), ("Uniqueid", "x"), ("Position", "1")],
            ),
            0,
        );
        s.begin_resync();
        s.apply(&ev("QueueParams", &[("Queue", "sales")]), 1);
        s.apply(
            &ev(
                "QueueMember",
                &[("Queue", "sales"), ("Location", "Local/202@agents/n")],
            ),
            1,
        );
        s.apply(&ev("QueueStatusComplete", &[]), 1);
        let q = &s.queues["sales"];
        assert_eq!(q.members.keys().collect::<Vec<_>>(), ["Local/202@agents/n"]);
        assert!(q.callers.is_empty());
    }

    #[test]
    fn counters_saturate_instead_of_wrapping() {
        let mut s = State::new();
        s.apply(
            &ev(
                "QueueParams",
                &[
                    ("Queue", "sales"),
                    ("Completed", "4294967295"),
                    ("Abandoned", "99999999999999"),
                    ("ServicelevelPerf2", "1e308"),
                ],
            ),
            0,
        );
        s.apply(
            &ev("AgentComplete", &[("Queue", "sales"), ("HoldTime", "1")]),
            1,
        );
        s.apply(
            &ev(
                "QueueCallerAbandon",
                &[("Queue", "sales"), ("Uniqueid", "x")],
            ),
            2,
        );
        let q = &s.queues["sales"];
        assert_eq!((q.completed, q.abandoned), (u32::MAX, u32::MAX));
        assert!(
            q.sl_counts()
                .percent(SlVariant::Sl2)
                .is_some_and(|v| v.is_finite())
        );
        // A snapshot channel with an absurd duration starts at the epoch's
        // floor, not at a wrapped time.
        s.apply(
            &ev(
                "CoreShowChannel",
                &[
                    ("Channel", "PJSIP/1-1"),
                    ("Uniqueid", "1.1"),
                    ("Duration", "99999999999:00:00"),
                ],
            ),
            5_000,
        );
        assert!(s.channels["1.1"].created_ms <= 5_000);
    }

    #[test]
    fn unknown_and_non_event_messages_change_nothing() {
        let mut s = State::new();
        let mut r = Message::default();
        r.push("Response", "Success");
        assert!(!s.apply(&r, 0));
        assert!(!s.apply(&ev("TestEvent", &[("Uniqueid", "1")]), 0));
        assert!(!s.apply(
            &ev(
                "DeviceStateChange",
                &[("Device", "Local/201@agents"), ("State", "INUSE")]
            ),
            0
        ));
        assert!(s.extensions.is_empty() && s.channels.is_empty());
    }
}
