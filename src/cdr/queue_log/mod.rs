//! Asterisk's queue_log file (`epoch|callid|queue|agent|event|data1|…`, one
//! line per queue event), read once per request into the per-queue KPIs
//! ([`queues`]), the per-agent KPIs ([`agents`]) and an index of queue calls
//! that the CDR extension KPIs take agents' talk times from ([`QueueCalls`]).
//! Formulas in docs/kpi.md ("Queue KPIs", "Agent KPIs"), implemented only
//! here.

pub mod agents;
pub mod queues;

pub use agents::AgentKpi;
pub use queues::QueueKpi;

use crate::access::Visibility;
use crate::endpoints::ExtensionRule;
use crate::service_level::Targets;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

/// Thresholds and names for the queue_log KPIs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueKpiSettings {
    /// Service-level threshold T, seconds, for queues without their own
    /// `[kpi.queues.NAME] sl_seconds`.
    pub service_level_s: u32,
    /// Abandons with a wait below this are "short" (counted apart; they stay
    /// in every service-level variant that counts abandons).
    pub short_abandon_s: u32,
    /// Staffing advice (Erlang C, [`crate::staffing`]) is computed from the
    /// arrivals and talk times of this many seconds before the window's
    /// end.
    pub staffing_window_s: u32,
    /// Now, seconds since the Unix epoch (UTC): the staffing window and the
    /// agents' open pauses and logins end here when it is before the end of
    /// the range; `None`: the end of the range.
    pub now: Option<i64>,
    /// The service-level goal the advice staffs for: this percent of calls
    /// answered within T.
    pub sl_goal_percent: u8,
    /// Service-level variant, T and wrap-up per queue (`[kpi]`).
    pub targets: Targets,
    /// Pause reasons that are after-call work, any case (`[kpi]
    /// wrapup_pause_reasons`; default `wrapup`, `acw`).
    pub wrapup_pause_reasons: Vec<String>,
    /// Agents' extensions: the extension rule (for members named after
    /// their interface) and `[kpi.agents]` (name → extension).
    pub agent_names: AgentNames,
}

impl Default for QueueKpiSettings {
    /// T = 20 s, abandons under 5 s are short, staffing for 80 % within T
    /// from the last 30 minutes: the CLI's defaults too.
    fn default() -> Self {
        QueueKpiSettings {
            service_level_s: 20,
            short_abandon_s: 5,
            staffing_window_s: 1800,
            now: None,
            sl_goal_percent: 80,
            targets: Targets::default(),
            wrapup_pause_reasons: vec!["wrapup".into(), "acw".into()],
            agent_names: AgentNames::default(),
        }
    }
}

/// How a queue_log agent (a member's name) maps to an extension.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentNames {
    /// The extension rule: a member named after its interface
    /// (`Local/201@from-queue/n`, `PJSIP/301`, FreePBX's default) is that
    /// extension.
    pub rule: ExtensionRule,
    /// `[kpi.agents]`: member name → extension.
    pub names: BTreeMap<String, String>,
}

impl AgentNames {
    /// The extension of agent `name`: `[kpi.agents]` first, then the rule.
    pub fn extension(&self, name: &str) -> Option<String> {
        self.names
            .get(name)
            .cloned()
            .or_else(|| self.rule.extension_of(name).map(str::to_string))
    }
}

/// One queue call as queue_log tells it, keyed by its callid (the caller's
/// channel uniqueid, which is also the `uniqueid` of the caller's CDR leg
/// into the queue).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueCall {
    /// The queue.
    pub queue: String,
    /// The member who answered (`CONNECT`'s agent), as queue_log names it.
    pub agent: String,
    /// Talk time with that member, seconds (`COMPLETEAGENT`/`COMPLETECALLER`
    /// data2, or a transfer's calltime); `None` while the call lasts.
    pub talk_s: Option<u64>,
    /// After-call work the queue gives its member, seconds (`[kpi.queues]
    /// wrapup_s`).
    pub wrapup_s: u32,
}

/// Answered queue calls of the window by callid.
pub type QueueCalls = HashMap<String, QueueCall>;

/// Everything one read of the queue_log gives.
#[derive(Debug, Default)]
pub struct QueueLog {
    /// Per queue, by name.
    pub queues: Vec<QueueKpi>,
    /// Per agent, by name.
    pub agents: Vec<AgentKpi>,
    /// Answered queue calls, for the CDR extension KPIs.
    pub calls: QueueCalls,
    /// Ring-no-answers (`RINGNOANSWER`) per agent name.
    pub ring_no_answer: HashMap<String, u64>,
    /// Lines that are not queue_log lines.
    pub skipped: u64,
}

/// One queue_log line, split.
pub(crate) struct Line<'a> {
    /// When, seconds since the Unix epoch (UTC).
    pub epoch: i64,
    /// The caller's channel uniqueid, or `NONE`.
    pub callid: &'a str,
    /// The queue, or `NONE`.
    pub queue: &'a str,
    /// The member's name, or `NONE`.
    pub agent: &'a str,
    /// `ENTERQUEUE`, `CONNECT`, `PAUSE`…
    pub event: &'a str,
    /// Every field, the data ones from the sixth on.
    parts: Vec<&'a str>,
}

impl<'a> Line<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let parts: Vec<&str> = text.trim_end_matches('\r').split('|').collect();
        Some(Line {
            epoch: parts.first()?.parse().ok()?,
            callid: parts.get(1)?,
            queue: parts.get(2)?,
            agent: parts.get(3)?,
            event: parts.get(4)?,
            parts,
        })
    }

    /// Data field `n` (1-based, `data1` is the sixth field) as a number, 0
    /// when missing or not a number.
    pub fn number(&self, n: usize) -> u64 {
        self.text(n).trim().parse().unwrap_or(0)
    }

    /// How many data fields the line has.
    pub fn data_len(&self) -> usize {
        self.parts.len().saturating_sub(5)
    }

    /// Data field `n` (1-based) as text, "" when missing.
    pub fn text(&self, n: usize) -> &'a str {
        self.parts.get(4 + n).copied().unwrap_or("")
    }
}

/// Reads queue_log lines from `input`, counting events with `from <= epoch
/// < to` (seconds since the Unix epoch, UTC) that `visibility` allows: a
/// queue's events when the queue is allowed; an agent's when the queue or
/// the agent's extension is. Events before `from` only set the agents'
/// pause and login state the window starts with.
///
/// Errors: reading `input` fails.
pub fn read(
    input: impl BufRead,
    from: i64,
    to: i64,
    visibility: &Visibility,
    s: &QueueKpiSettings,
) -> std::io::Result<QueueLog> {
    let mut queues = queues::Counter::new(from, to, s);
    let mut agents = agents::Counter::new(from, to, s);
    let mut calls = QueueCalls::new();
    let mut skipped = 0;
    for raw in input.split(b'\n') {
        let raw = raw?;
        let text = String::from_utf8_lossy(&raw);
        let Some(line) = Line::parse(&text) else {
            skipped += u64::from(!text.trim().is_empty());
            continue;
        };
        if line.epoch >= to {
            continue;
        }
        let queue_seen = visibility.allows_queue(line.queue);
        let agent_seen = queue_seen
            || s.agent_names
                .extension(line.agent)
                .is_some_and(|e| visibility.allows_extension(&e));
        if line.epoch < from {
            if agent_seen {
                agents.before_window(&line);
            }
            continue;
        }
        if queue_seen {
            queues.add(&line);
        }
        if agent_seen {
            agents.add(&line);
            index_call(&mut calls, &line, &s.targets);
        }
    }
    let (agents, ring_no_answer) = agents.finish();
    Ok(QueueLog {
        queues: queues.finish(),
        agents,
        calls,
        ring_no_answer,
        skipped,
    })
}

/// Keeps the answered call's queue, agent and talk time.
fn index_call(calls: &mut QueueCalls, line: &Line<'_>, targets: &Targets) {
    match line.event {
        "CONNECT" => {
            calls.insert(
                line.callid.to_string(),
                QueueCall {
                    queue: line.queue.to_string(),
                    agent: line.agent.to_string(),
                    talk_s: None,
                    wrapup_s: targets.wrapup_s(line.queue),
                },
            );
        }
        event => {
            if let (Some(talk), Some(call)) = (talk_of(line, event), calls.get_mut(line.callid)) {
                call.talk_s = Some(call.talk_s.unwrap_or(0) + talk);
            }
        }
    }
}

/// The talk time an event ends a connected call with, seconds:
/// `COMPLETEAGENT`/`COMPLETECALLER` data2, `TRANSFER`/`BLINDTRANSFER` data4,
/// `ATTENDEDTRANSFER` the field before the last (its target takes one or
/// two fields: `BRIDGE|id`, `APP|name`, `LINK|a|b`, then holdtime,
/// calltime, position).
pub(crate) fn talk_of(line: &Line<'_>, event: &str) -> Option<u64> {
    match event {
        "COMPLETEAGENT" | "COMPLETECALLER" => Some(line.number(2)),
        "TRANSFER" | "BLINDTRANSFER" => Some(line.number(4)),
        "ATTENDEDTRANSFER" => Some(line.number(line.data_len().saturating_sub(1))),
        _ => None,
    }
}
