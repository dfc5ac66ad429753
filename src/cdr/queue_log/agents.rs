//! Per-agent KPIs from queue_log events: what a queue member was offered,
//! answered and missed, how long they talked and wrapped up, how long they
//! were paused (by reason) and logged in. Formulas in docs/kpi.md ("Agent
//! KPIs"), implemented only here.

use super::{Line, QueueKpiSettings, talk_of};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// KPIs of one queue member over a window, all queues together.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct AgentKpi {
    /// The member's name as queue_log writes it (`MemberName`; the
    /// interface when the member has no name).
    pub agent: String,
    /// Its extension (`[kpi.agents]`, or the extension rule on the name).
    pub extension: Option<String>,
    /// Queue calls offered to it: rung (`CONNECT`, `RINGNOANSWER`,
    /// `RINGCANCELED`).
    pub rung: u64,
    /// Queue calls it answered (`CONNECT`).
    pub answered: u64,
    /// Rings it let time out (`RINGNOANSWER`).
    pub missed: u64,
    /// Queue calls that ended in the window after it answered
    /// (`COMPLETEAGENT`, `COMPLETECALLER`, transfers): the calls handled.
    pub handled: u64,
    /// Talk time of the handled calls, seconds (their calltime).
    pub talk_s: u64,
    /// After-call work, seconds: each handled call's queue `wrapup_s`
    /// (`[kpi.queues]`) plus time paused with a wrap-up reason
    /// (`[kpi] wrapup_pause_reasons`).
    pub acw_s: u64,
    /// AHT: (talk + after-call work) / handled, seconds.
    pub aht_s: Option<f64>,
    /// Time paused for other reasons in the window, seconds.
    pub paused_s: u64,
    /// `paused_s` by reason ("" for a pause without one).
    pub pause_reasons: BTreeMap<String, u64>,
    /// Time logged in (a member of at least one queue) in the window,
    /// seconds, from `ADDMEMBER`/`REMOVEMEMBER` and
    /// `AGENTLOGIN`/`AGENTLOGOFF`; `None` for a static member, whose
    /// membership queue_log never logs.
    pub logged_in_s: Option<u64>,
    /// Occupancy, %: (talk + after-call work) / (logged in − paused).
    pub occupancy: Option<f64>,
}

/// The intervals an agent spends in a state made of a set (paused in some
/// queue, member of some queue), clipped to the window.
#[derive(Default)]
struct Spell {
    /// Queues (or `*` for a login) the state holds in.
    in_queues: BTreeSet<String>,
    /// When the current interval began, and its label (a pause's reason).
    open: Option<(i64, String)>,
    /// Closed time by label, seconds.
    closed: BTreeMap<String, u64>,
    /// An event of this kind was seen.
    seen: bool,
}

impl Spell {
    /// `queue` enters (`on`) or leaves the set at `at` (already clipped to
    /// the window start); `label` names the interval.
    fn set(&mut self, queue: &str, on: bool, at: i64, label: &str) {
        self.seen = true;
        if on {
            self.in_queues.insert(queue.to_string());
        } else {
            self.in_queues.remove(queue);
        }
        let relabel = on && self.open.as_ref().is_some_and(|(_, l)| l != label);
        if self.in_queues.is_empty() || relabel {
            self.close(at);
        }
        if !self.in_queues.is_empty() && self.open.is_none() {
            self.open = Some((at, label.to_string()));
        }
    }

    fn close(&mut self, at: i64) {
        if let Some((since, label)) = self.open.take() {
            *self.closed.entry(label).or_default() += u64::try_from(at - since).unwrap_or(0);
        }
    }
}

#[derive(Default)]
struct Acc {
    kpi: AgentKpi,
    wrapup_s: u64,
    paused: Spell,
    logged_in: Spell,
}

/// Counts agent events into [`AgentKpi`]s.
pub(super) struct Counter<'s> {
    by_agent: BTreeMap<String, Acc>,
    s: &'s QueueKpiSettings,
    from: i64,
    end: i64,
}

impl<'s> Counter<'s> {
    /// A counter for the window `[from, to)`, epoch seconds; open intervals
    /// end at `to` or at `s.now`, whichever is sooner.
    pub(super) fn new(from: i64, to: i64, s: &'s QueueKpiSettings) -> Self {
        Counter {
            by_agent: BTreeMap::new(),
            s,
            from,
            end: s.now.unwrap_or(to).clamp(from, to),
        }
    }

    fn agent(&mut self, name: &str) -> Option<&mut Acc> {
        if name.is_empty() || name == "NONE" {
            return None;
        }
        Some(self.by_agent.entry(name.to_string()).or_default())
    }

    /// An event before the window: only the pause and login state.
    pub(super) fn before_window(&mut self, line: &Line<'_>) {
        self.state(line);
    }

    fn state(&mut self, line: &Line<'_>) {
        let at = line.epoch.max(self.from);
        let wrapup = self.is_wrapup(line.text(1));
        let Some(a) = self.agent(line.agent) else {
            return;
        };
        match line.event {
            "PAUSE" => {
                let label = if wrapup { WRAPUP } else { line.text(1) };
                a.paused.set(line.queue, true, at, label);
            }
            "UNPAUSE" => a.paused.set(line.queue, false, at, ""),
            "ADDMEMBER" => a.logged_in.set(line.queue, true, at, ""),
            "REMOVEMEMBER" => a.logged_in.set(line.queue, false, at, ""),
            "AGENTLOGIN" => a.logged_in.set("*", true, at, ""),
            "AGENTLOGOFF" => a.logged_in.set("*", false, at, ""),
            _ => {}
        }
    }

    fn is_wrapup(&self, reason: &str) -> bool {
        !reason.is_empty()
            && self
                .s
                .wrapup_pause_reasons
                .iter()
                .any(|r| r.eq_ignore_ascii_case(reason))
    }

    /// Counts one line of the window.
    pub(super) fn add(&mut self, line: &Line<'_>) {
        self.state(line);
        let wrapup = u64::from(self.s.targets.wrapup_s(line.queue));
        let Some(a) = self.agent(line.agent) else {
            return;
        };
        let k = &mut a.kpi;
        match line.event {
            "CONNECT" => {
                k.rung += 1;
                k.answered += 1;
            }
            "RINGNOANSWER" => {
                k.rung += 1;
                k.missed += 1;
            }
            "RINGCANCELED" => k.rung += 1,
            event => {
                if let Some(talk) = talk_of(line, event) {
                    k.handled += 1;
                    k.talk_s += talk;
                    a.wrapup_s += wrapup;
                }
            }
        }
    }

    /// The KPIs by agent name, and the ring-no-answers by agent name.
    pub(super) fn finish(self) -> (Vec<AgentKpi>, HashMap<String, u64>) {
        let end = self.end;
        let names = &self.s.agent_names;
        let mut missed = HashMap::new();
        let kpis = self
            .by_agent
            .into_iter()
            .map(|(agent, mut a)| {
                a.paused.close(end);
                a.logged_in.close(end);
                let mut k = a.kpi;
                let wrapup_paused = a.paused.closed.remove(WRAPUP).unwrap_or(0);
                k.acw_s = a.wrapup_s + wrapup_paused;
                k.pause_reasons = a.paused.closed;
                k.paused_s = k.pause_reasons.values().sum();
                k.aht_s = (k.handled > 0).then(|| (k.talk_s + k.acw_s) as f64 / k.handled as f64);
                k.logged_in_s = a.logged_in.seen.then(|| a.logged_in.closed.values().sum());
                k.occupancy = k.logged_in_s.and_then(|l| {
                    let available = l.saturating_sub(k.paused_s);
                    (available > 0).then(|| (k.talk_s + k.acw_s) as f64 * 100.0 / available as f64)
                });
                k.extension = names.extension(&agent);
                missed.insert(agent.clone(), k.missed);
                k.agent = agent;
                k
            })
            .collect();
        (kpis, missed)
    }
}

/// The label of wrap-up pauses (never a reason Asterisk writes: it has a
/// NUL).
const WRAPUP: &str = "\0wrapup";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Visibility;
    use crate::service_level::QueueTarget;

    const LOG: &str = "\
50|NONE|sales|Alice|ADDMEMBER|
80|NONE|sales|Alice|PAUSE|Lunch
100|1.1|sales|NONE|ENTERQUEUE||5550001|1
100|NONE|sales|Alice|UNPAUSE|
105|1.1|sales|Bob|RINGNOANSWER|10000
115|1.1|sales|Alice|CONNECT|15|1.2|1
135|1.1|sales|Alice|COMPLETECALLER|15|20|1
140|NONE|sales|Alice|PAUSE|ACW
150|NONE|sales|Alice|UNPAUSE|
160|2.1|sales|Alice|CONNECT|0|2.2|1
170|NONE|support|Alice|PAUSE|Training
180|NONE|sales|Alice|REMOVEMEMBER|
";

    fn agents(s: &QueueKpiSettings, from: i64, to: i64) -> Vec<AgentKpi> {
        super::super::read(LOG.as_bytes(), from, to, &Visibility::All, s)
            .unwrap_or_else(|e| panic!("{e}"))
            .agents
    }

    #[test]
    fn by_hand() {
        let mut s = QueueKpiSettings::default();
        s.targets.queues.insert(
            "sales".into(),
            QueueTarget {
                wrapup_s: Some(3),
                ..QueueTarget::default()
            },
        );
        let k = agents(&s, 60, 200);
        let (alice, bob) = (&k[0], &k[1]);
        assert_eq!(
            (alice.rung, alice.answered, alice.missed, alice.handled),
            (2, 2, 0, 1),
            "the second call has not ended: answered, not handled"
        );
        // Talk 20 s; wrap-up: the queue's 3 s plus 10 s paused for ACW.
        assert_eq!(
            (alice.talk_s, alice.acw_s, alice.aht_s),
            (20, 13, Some(33.0))
        );
        // Lunch 80..100; Training 170..200 (the window's end).
        assert_eq!(
            alice.pause_reasons,
            BTreeMap::from([("Lunch".into(), 20), ("Training".into(), 30)])
        );
        assert_eq!(alice.paused_s, 50);
        // A member from before the window to 180: 120 s in the window.
        assert_eq!(alice.logged_in_s, Some(120));
        assert_eq!(alice.occupancy, Some(33.0 * 100.0 / 70.0));
        assert_eq!(
            (bob.rung, bob.missed, bob.logged_in_s, bob.occupancy),
            (1, 1, None, None)
        );
        // The window starts in Lunch: its first 10 s are before the window.
        let late = agents(&s, 90, 200);
        assert_eq!(late[0].pause_reasons.get("Lunch"), Some(&10));
    }

    #[test]
    fn agents_named_after_their_interface_map_to_extensions() {
        let mut s = QueueKpiSettings::default();
        s.agent_names.names.insert("Alice".into(), "201".into());
        let log = "100|1|q|Alice|CONNECT|0|1|1\n100|2|q|Local/202@from-queue/n|CONNECT|0|2|1\n100|3|q|Carol|CONNECT|0|3|1\n";
        let k = super::super::read(log.as_bytes(), 0, 200, &Visibility::All, &s)
            .unwrap_or_else(|e| panic!("{e}"))
            .agents;
        let ext: Vec<Option<&str>> = k.iter().map(|a| a.extension.as_deref()).collect();
        assert_eq!(ext, [Some("201"), None, Some("202")]);
    }
}
