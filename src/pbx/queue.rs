//! Queues, their members and waiting callers, and the live queue figures.

use super::callers::Callers;

use super::device::DeviceState;
use crate::service_level::{SlCounts, SlVariant};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// A queue member (agent), keyed by `interface` within its queue.
///
/// Source: `QueueMember` (snapshot), `QueueMemberStatus`, `QueueMemberAdded`,
/// `QueueMemberPause`, `QueueMemberPenalty`; every one of them carries the
/// full record, so the last one wins.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueMember {
    /// Interface Asterisk dials, e.g. `PJSIP/301` or `Local/201@agents/n`
    /// (`Location` in `QueueMember`, `Interface` in the other events).
    pub interface: String,
    /// Member name (`Name` / `MemberName`).
    pub name: String,
    /// Device whose state is followed (`StateInterface`).
    pub state_interface: String,
    /// `static`, `dynamic` or `realtime`.
    pub membership: String,
    /// Penalty (lower rings first).
    pub penalty: i32,
    /// Calls answered since login (`CallsTaken`).
    pub calls_taken: u32,
    /// End of the last call, seconds since the Unix epoch, 0 = never (`LastCall`).
    pub last_call: i64,
    /// Last pause change, seconds since the Unix epoch, 0 = never (`LastPause`).
    pub last_pause: i64,
    /// Login time, seconds since the Unix epoch (`LoginTime`).
    pub login_time: i64,
    /// On a queue call now (`InCall`).
    pub in_call: bool,
    /// Device state of `state_interface` (`Status`, numeric).
    pub status: DeviceState,
    /// Paused (`Paused`).
    pub paused: bool,
    /// Pause reason, may be empty (`PausedReason`).
    pub paused_reason: String,
    /// Wrap-up time after a call, seconds (`Wrapuptime`; 0 = queue default).
    pub wrapup_time_s: u32,
    #[serde(skip)]
    pub(crate) seen: u64,
}

impl QueueMember {
    /// In wrap-up at `now_ms`: the last call ended less than `wrapup_s` ago.
    pub fn in_wrapup(&self, now_ms: i64, queue_wrapup_s: u32) -> bool {
        let w = if self.wrapup_time_s > 0 {
            self.wrapup_time_s
        } else {
            queue_wrapup_s
        };
        !self.in_call
            && self.last_call > 0
            && (now_ms / 1000).saturating_sub(self.last_call) < i64::from(w)
    }

    /// Logged in and reachable: counts as staffing.
    pub fn is_staffed(&self) -> bool {
        self.status.is_reachable()
    }

    /// How the member counts in the live figures, `None` when not staffed.
    pub fn activity(&self) -> Option<Activity> {
        if !self.is_staffed() {
            None
        } else if self.paused {
            Some(Activity::Paused)
        } else if self.is_available() {
            Some(Activity::Available)
        } else {
            Some(Activity::Busy)
        }
    }

    /// Can take a call now: staffed, not paused, idle, not on a queue call.
    pub fn is_available(&self) -> bool {
        self.is_staffed() && !self.paused && !self.in_call && self.status == DeviceState::NotInUse
    }
}

/// How a staffed member counts (docs/kpi.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    /// Not paused, idle, not on a queue call.
    Available,
    /// Not paused and not available (on a call, ringing, wrap-up, device busy).
    Busy,
    /// Paused.
    Paused,
}

/// A queue with its parameters, members, callers and counters.
///
/// Counters follow Asterisk's own (`QueueParams` `Completed`, `Abandoned`,
/// `ServicelevelPerf`, `ServicelevelPerf2`): seeded by each snapshot, then
/// counted live the way app_queue counts them: `AgentComplete` adds a
/// completed call (within the service level when its `HoldTime` ≤
/// `ServiceLevel`), `QueueCallerAbandon` an abandoned one (within the service
/// level when its `HoldTime` ≤ `ServiceLevel`). So SL and SL2 equal what
/// `queue show` prints.
///
/// A new scalar field must also go into [`Queue::head`] (what an attached
/// console receives when the queue's own figures change).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    /// Queue name.
    pub name: String,
    /// `Strategy` (rrmemory, ringall...).
    pub strategy: String,
    /// Maximum callers, 0 = unlimited (`Max`).
    pub max: u32,
    /// Service-level threshold in seconds (`ServiceLevel`).
    pub service_level_s: u32,
    /// Weight (`Weight`).
    pub weight: i32,
    /// Calls answered and ended since Asterisk's counters were reset (`Completed`).
    pub completed: u32,
    /// Of `completed`, answered within `service_level_s`.
    pub completed_in_sl: u32,
    /// Callers who hung up while waiting (`Abandoned`).
    pub abandoned: u32,
    /// Of `abandoned`, those who hung up within `service_level_s`.
    pub abandoned_in_sl: u32,
    /// Asterisk's average hold time, seconds (`Holdtime`), from the snapshot.
    pub holdtime_s: u32,
    /// Asterisk's average talk time, seconds (`TalkTime`), from the snapshot.
    pub talktime_s: u32,
    /// Members by interface.
    pub members: BTreeMap<String, QueueMember>,
    /// Waiting callers, in queue order.
    pub callers: Callers,
    /// Arrivals and completed calls of the last hour, for staffing advice.
    pub recent: RecentLoad,
    #[serde(skip)]
    pub(crate) seen: u64,
}

/// How long [`RecentLoad`] keeps arrivals and completions, ms (the longest
/// staffing window `[health] staffing_window_s` allows).
pub const RECENT_MS: i64 = 3_600_000;

/// A queue's recent load, as this console saw it: arrivals
/// (`QueueCallerJoin`) and the talk times of completed calls
/// (`AgentComplete` `TalkTime`), kept for [`RECENT_MS`]. Each event costs
/// O(1) amortised; a figure reads only the window's entries.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecentLoad {
    /// When the console began to watch the queue, ms since epoch (UTC).
    since_ms: Option<i64>,
    /// Arrival times, ms, oldest first.
    arrivals: VecDeque<i64>,
    /// Completion times (ms) and talk times (s), oldest first.
    completions: VecDeque<(i64, u32)>,
    /// Arrivals and completions recorded since creation (a [`RecentMark`]
    /// counts from these, so only what is new is sent to a console).
    #[serde(default)]
    pushed: RecentMark,
}

/// How far a copy of a [`RecentLoad`] has followed it: arrivals and
/// completions recorded so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentMark {
    /// Arrivals recorded.
    pub arrivals: u64,
    /// Completions recorded.
    pub completions: u64,
}

/// What a [`RecentLoad`] recorded after a [`RecentMark`] (and still holds):
/// the increment a console's copy needs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecentSince {
    /// When watching began, ms since epoch (UTC).
    pub since_ms: Option<i64>,
    /// New arrival times, ms, oldest first.
    pub arrivals: Vec<i64>,
    /// New completion times (ms) and talk times (s), oldest first.
    pub completions: Vec<(i64, u32)>,
}

impl RecentSince {
    /// Nothing new.
    pub fn is_empty(&self) -> bool {
        self.arrivals.is_empty() && self.completions.is_empty()
    }
}

impl RecentLoad {
    /// An empty load, watched from `since_ms` (ms since epoch, UTC).
    pub fn watched_from(since_ms: i64) -> Self {
        RecentLoad {
            since_ms: Some(since_ms),
            ..RecentLoad::default()
        }
    }

    /// The console watches the queue from `at_ms` on (the first event or
    /// snapshot of it): rates are counted from then.
    pub fn watch_from(&mut self, at_ms: i64) {
        self.since_ms.get_or_insert(at_ms);
    }

    /// A caller joined at `at_ms`.
    pub fn arrival(&mut self, at_ms: i64) {
        self.watch_from(at_ms);
        self.arrivals.push_back(at_ms);
        self.pushed.arrivals += 1;
        self.prune(at_ms);
    }

    /// A call was completed at `at_ms` after `talk_s` seconds of talk.
    pub fn completion(&mut self, at_ms: i64, talk_s: u32) {
        self.watch_from(at_ms);
        self.completions.push_back((at_ms, talk_s));
        self.pushed.completions += 1;
        self.prune(at_ms);
    }

    /// How much has been recorded so far.
    pub fn mark(&self) -> RecentMark {
        self.pushed
    }

    /// What was recorded after `mark` and is still held (all of it for
    /// [`RecentMark::default`]). Cost: the new entries only.
    pub fn since(&self, mark: RecentMark) -> RecentSince {
        let new = |pushed: u64, sent: u64, held: usize| {
            usize::try_from(pushed.saturating_sub(sent)).map_or(held, |n| n.min(held))
        };
        let a = new(self.pushed.arrivals, mark.arrivals, self.arrivals.len());
        let c = new(
            self.pushed.completions,
            mark.completions,
            self.completions.len(),
        );
        RecentSince {
            since_ms: self.since_ms,
            arrivals: self
                .arrivals
                .range(self.arrivals.len() - a..)
                .copied()
                .collect(),
            completions: self
                .completions
                .range(self.completions.len() - c..)
                .copied()
                .collect(),
        }
    }

    /// Adds what another copy recorded ([`Self::since`]), as if recorded here.
    pub fn extend(&mut self, more: RecentSince) {
        if let Some(t) = more.since_ms {
            self.watch_from(t);
        }
        for t in more.arrivals {
            self.arrival(t);
        }
        for (t, talk) in more.completions {
            self.completion(t, talk);
        }
    }

    fn prune(&mut self, now_ms: i64) {
        let oldest = now_ms - RECENT_MS;
        while self.arrivals.front().is_some_and(|&t| t < oldest) {
            self.arrivals.pop_front();
        }
        while self.completions.front().is_some_and(|&(t, _)| t < oldest) {
            self.completions.pop_front();
        }
    }

    /// The load over the `window_ms` before `now_ms` (or since the console
    /// began to watch, if later): `None` before a minute of watching, or
    /// without a completed call to take a handle time from.
    pub fn load(&self, now_ms: i64, window_ms: i64) -> Option<crate::staffing::Load> {
        let start = (now_ms - window_ms.min(RECENT_MS)).max(self.since_ms?);
        let span_ms = now_ms - start;
        if span_ms < 60_000 {
            return None;
        }
        let arrivals = self.arrivals.len() - self.arrivals.partition_point(|&t| t < start);
        let first = self.completions.partition_point(|&(t, _)| t < start);
        let done = self.completions.len() - first;
        if done == 0 {
            return None;
        }
        let talk: u64 = self
            .completions
            .range(first..)
            .map(|&(_, s)| u64::from(s))
            .sum();
        Some(crate::staffing::Load {
            rate: arrivals as f64 * 1000.0 / span_ms as f64,
            aht_s: talk as f64 / done as f64,
        })
    }
}

/// Thresholds for a queue's health, from config (`[health]`).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthThresholds {
    /// Longest wait (s) from which a queue is at least Warn.
    pub wait_warn_s: u32,
    /// Longest wait (s) from which a queue is Critical.
    pub wait_crit_s: u32,
    /// Service level (%) below which a queue is at least Warn.
    pub sl_warn_percent: f64,
    /// Waiting callers per available member from which a queue is Warn.
    pub callers_per_available_warn: f64,
    /// Staffing advice: the service level (%) to staff for, within the
    /// queue's own `ServiceLevel` seconds.
    pub staffing_goal_percent: f64,
    /// Staffing advice from the arrivals and talk times of this many
    /// seconds (60 to 3600).
    pub staffing_window_s: u32,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        HealthThresholds {
            wait_warn_s: 30,
            wait_crit_s: 90,
            sl_warn_percent: 80.0,
            callers_per_available_warn: 2.0,
            staffing_goal_percent: 80.0,
            staffing_window_s: 1800,
        }
    }
}

impl HealthThresholds {
    /// Checks the orderings and ranges.
    ///
    /// Errors: the key that is wrong (`health.wait_warn_s`), with why.
    pub fn validate(&self) -> Result<(), crate::config::ConfigError> {
        use crate::config::ConfigError;
        if !(60..=3_600).contains(&self.staffing_window_s) {
            return Err(ConfigError::new(
                "health.staffing_window_s",
                format!("{} is out of range 60-3600", self.staffing_window_s),
            ));
        }
        if self.wait_warn_s > self.wait_crit_s {
            return Err(ConfigError::new(
                "health.wait_warn_s",
                "must not exceed health.wait_crit_s",
            ));
        }
        if !(1.0..=99.0).contains(&self.staffing_goal_percent) {
            return Err(ConfigError::new(
                "health.staffing_goal_percent",
                "must be between 1 and 99 (percent of calls answered within the queue's service level)",
            ));
        }
        Ok(())
    }
}

/// A queue's health. Ordered: `Ok < Warn < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Nothing to act on.
    Ok,
    /// Trending badly.
    Warn,
    /// Callers waiting with nobody available, or waits past the critical limit.
    Critical,
}

/// Live figures of one queue at one instant. Definitions in docs/kpi.md.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueFigures {
    /// Callers waiting.
    pub waiting: usize,
    /// Longest current wait, seconds (0 when nobody waits).
    pub longest_wait_s: i64,
    /// Members logged in and reachable (device not Unavailable/Invalid/Unknown).
    pub staffed: usize,
    /// Staffed, not paused, idle and not on a queue call.
    pub available: usize,
    /// Staffed and on a call (in call or device in use/ringing/on hold/busy).
    pub busy: usize,
    /// Staffed and paused.
    pub paused: usize,
    /// Service level, % in `sl_variant` ([`crate::service_level`]); `None`
    /// before the first call.
    pub service_level: Option<f64>,
    /// The variant `service_level` is (shown beside it).
    pub sl_variant: SlVariant,
    /// Health from the thresholds.
    pub health: Health,
    /// Agents Erlang C says the recent load needs for the staffing goal
    /// within the queue's service level ([`RecentLoad::load`]); `None`
    /// without enough data.
    pub agents_needed: Option<u32>,
    /// The service level (%) Erlang C forecasts for the recent load with
    /// the agents on duty now (staffed, not paused): 0 when they cannot
    /// carry it; `None` without enough data.
    pub forecast_sl: Option<f64>,
}

impl Queue {
    /// A new, empty queue.
    pub fn new(name: &str) -> Self {
        Queue {
            name: name.to_string(),
            ..Queue::default()
        }
    }

    /// The queue's own figures without its members, callers and recent
    /// load (what a console's copy compares and receives when those
    /// figures change).
    pub fn head(&self) -> Queue {
        Queue {
            name: self.name.clone(),
            strategy: self.strategy.clone(),
            max: self.max,
            service_level_s: self.service_level_s,
            weight: self.weight,
            completed: self.completed,
            completed_in_sl: self.completed_in_sl,
            abandoned: self.abandoned,
            abandoned_in_sl: self.abandoned_in_sl,
            holdtime_s: self.holdtime_s,
            talktime_s: self.talktime_s,
            ..Queue::default()
        }
    }

    /// The counts the service level is computed from (Asterisk's, since
    /// its last reset; nothing offered: Asterisk does not count timeouts).
    pub fn sl_counts(&self) -> SlCounts {
        SlCounts {
            offered: 0,
            answered: u64::from(self.completed),
            answered_in_sl: u64::from(self.completed_in_sl),
            abandoned: u64::from(self.abandoned),
            abandoned_in_sl: u64::from(self.abandoned_in_sl),
        }
    }

    /// Figures at `now_ms` (ms since epoch, UTC), the service level in
    /// `variant` (SL2 for `Offered`, see [`SlCounts::shown`]).
    pub fn figures(&self, now_ms: i64, t: &HealthThresholds, variant: SlVariant) -> QueueFigures {
        let sl = self.sl_counts();
        let mut f = QueueFigures {
            waiting: self.callers.len(),
            longest_wait_s: self
                .callers
                .iter()
                .map(|c| c.wait_s(now_ms))
                .max()
                .unwrap_or(0),
            staffed: 0,
            available: 0,
            busy: 0,
            paused: 0,
            service_level: sl.percent(variant),
            sl_variant: sl.shown(variant),
            health: Health::Ok,
            agents_needed: None,
            forecast_sl: None,
        };
        for a in self.members.values().filter_map(QueueMember::activity) {
            f.staffed += 1;
            match a {
                Activity::Paused => f.paused += 1,
                Activity::Available => f.available += 1,
                Activity::Busy => f.busy += 1,
            }
        }
        f.health = health(&f, t);
        if let Some(load) = self
            .recent
            .load(now_ms, i64::from(t.staffing_window_s) * 1000)
        {
            let target = f64::from(self.service_level_s);
            f.agents_needed = load.agents_needed(target, t.staffing_goal_percent / 100.0);
            let on_duty = u32::try_from(f.staffed - f.paused).unwrap_or(u32::MAX);
            f.forecast_sl = Some(load.service_level(on_duty, target).unwrap_or(0.0) * 100.0);
        }
        f
    }
}

fn health(f: &QueueFigures, t: &HealthThresholds) -> Health {
    if f.waiting > 0 && (f.staffed == f.paused || f.longest_wait_s >= i64::from(t.wait_crit_s)) {
        return Health::Critical;
    }
    let crowded = f.waiting > 0
        && (f.available == 0
            || f.waiting as f64 / f.available as f64 >= t.callers_per_available_warn);
    let slow = f.longest_wait_s >= i64::from(t.wait_warn_s);
    let low_sl = f.service_level.is_some_and(|sl| sl < t.sl_warn_percent);
    if crowded || slow || low_sl {
        Health::Warn
    } else {
        Health::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pbx::QueueCaller;

    fn member(status: DeviceState, paused: bool, in_call: bool) -> QueueMember {
        QueueMember {
            status,
            paused,
            in_call,
            ..QueueMember::default()
        }
    }

    fn caller(joined_ms: i64) -> QueueCaller {
        QueueCaller {
            uniqueid: "c".into(),
            joined_ms,
            ..QueueCaller::default()
        }
    }

    #[test]
    fn figures_count_only_staffed_members() {
        let mut q = Queue::new("sales");
        q.members
            .insert("a".into(), member(DeviceState::NotInUse, false, false));
        q.members
            .insert("b".into(), member(DeviceState::InUse, false, true));
        q.members
            .insert("c".into(), member(DeviceState::NotInUse, true, false));
        q.members
            .insert("d".into(), member(DeviceState::Unavailable, false, false));
        q.callers.join(caller(0), 0);
        let f = q.figures(12_000, &HealthThresholds::default(), SlVariant::Sl2);
        assert_eq!((f.staffed, f.available, f.busy, f.paused), (3, 1, 1, 1));
        assert_eq!((f.waiting, f.longest_wait_s), (1, 12));
        assert_eq!(f.health, Health::Ok);
    }

    #[test]
    fn health_levels() {
        let t = HealthThresholds::default();
        let mut q = Queue::new("q");
        q.members
            .insert("a".into(), member(DeviceState::NotInUse, true, false));
        q.members
            .insert("off".into(), member(DeviceState::Unavailable, false, false));
        q.callers.join(caller(0), 0);
        // Only an unreachable member is unpaused: nobody can answer.
        assert_eq!(
            q.figures(1_000, &t, SlVariant::Sl2).health,
            Health::Critical
        );
        q.members
            .insert("b".into(), member(DeviceState::InUse, false, true));
        assert_eq!(q.figures(1_000, &t, SlVariant::Sl2).health, Health::Warn);
        q.members
            .insert("c".into(), member(DeviceState::NotInUse, false, false));
        assert_eq!(q.figures(1_000, &t, SlVariant::Sl2).health, Health::Ok);
        assert_eq!(q.figures(40_000, &t, SlVariant::Sl2).health, Health::Warn);
        assert_eq!(
            q.figures(95_000, &t, SlVariant::Sl2).health,
            Health::Critical
        );
    }

    #[test]
    fn live_service_level_in_asterisks_two_variants() {
        let mut q = Queue::new("q");
        let t = HealthThresholds::default();
        assert_eq!(q.figures(0, &t, SlVariant::Sl2).service_level, None);
        q.completed = 3;
        q.completed_in_sl = 2;
        q.abandoned = 2;
        q.abandoned_in_sl = 1;
        let sl = |q: &Queue, v| q.figures(0, &t, v).service_level;
        assert_eq!(sl(&q, SlVariant::Sl).map(|v| v.round()), Some(67.0));
        assert_eq!(sl(&q, SlVariant::Sl2), Some(60.0));
        // Asterisk counts no timeouts: "offered" is shown as SL2, named so.
        let f = q.figures(0, &t, SlVariant::Offered);
        assert_eq!(
            (f.service_level, f.sl_variant),
            (Some(60.0), SlVariant::Sl2)
        );
    }

    #[test]
    fn wrapup_uses_member_then_queue_value() {
        let m = QueueMember {
            last_call: 100,
            ..QueueMember::default()
        };
        assert!(m.in_wrapup(101_000, 2));
        assert!(!m.in_wrapup(103_000, 2));
    }
}
