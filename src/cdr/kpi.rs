//! Per-extension KPIs from CDR rows, counted per call and with each
//! extension's talk taken from its own leg. The formulas are written once,
//! in docs/kpi.md ("History KPIs per extension"), and implemented only here.

use super::CdrError;
use super::columns::Field;
use super::filter::CdrFilter;
use super::filter::Disposition;
use super::history::call_id;
use super::queue_log::{AgentNames, QueueLog};
use super::record::CdrRecord;
use super::store::CdrStore;
use crate::endpoints::ExtensionRule;
use chrono::NaiveDateTime;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::BuildHasher;

/// KPIs of one extension over a window. Counts are of calls (CDR legs
/// sharing a `linkedid`), not of legs; times are seconds; start and end
/// are PBX local time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtensionKpi {
    /// The extension ([`ExtensionRule`]).
    pub extension: String,
    /// Calls the extension was on: rung or placed.
    pub calls: u64,
    /// Calls that rang it (it was on a leg's `dstchannel`, or a queue
    /// member's `Local/…;2` half ran for it).
    pub rung: u64,
    /// Of `rung`, calls it answered.
    pub answered: u64,
    /// Rings it did not answer: unanswered legs that rang it from `Dial`,
    /// and queue rings it let time out (queue_log `RINGNOANSWER`, or
    /// without the queue_log its unanswered legs from `Queue`).
    pub missed: u64,
    /// Calls it placed (it was on a leg's `channel`).
    pub placed: u64,
    /// Calls it talked on: answered, or placed and answered.
    pub handled: u64,
    /// Talk time on the handled calls, seconds, from its own leg: the
    /// `billsec` of a leg it placed or of its queue member half; of a queue
    /// call to a phone, the queue_log talk time (a `Queue` leg's `billsec`
    /// starts when the caller entered the queue); else the `billsec` of the
    /// leg that rang it.
    pub talk_s: i64,
    /// After-call work, seconds: each answered queue call's queue
    /// `wrapup_s` (`[kpi.queues]`).
    pub acw_s: i64,
    /// THT, total handle time: talk + after-call work, seconds.
    pub tht_s: i64,
    /// AHT, average handle time: THT / handled, seconds (`None` with no
    /// handled call).
    pub aht_s: Option<f64>,
    /// Start of its first leg.
    pub first_start: Option<NaiveDateTime>,
    /// End (start + `duration`) of its last leg.
    pub last_end: Option<NaiveDateTime>,
}

/// The CDR fields the extension KPIs read.
pub const FIELDS: [Field; 9] = [
    Field::Start,
    Field::Channel,
    Field::Dstchannel,
    Field::Lastapp,
    Field::Disposition,
    Field::Duration,
    Field::Billsec,
    Field::Uniqueid,
    Field::Linkedid,
];

/// One extension's part in one call.
#[derive(Debug, Default)]
struct Part {
    rung: bool,
    /// A leg rang it (it was the `dstchannel`), and one of those was
    /// answered: what "answered" means when there is one.
    rang: bool,
    rang_answered: bool,
    /// Its queue member half answered. Without a leg that rang it (a table
    /// that lost it) this is the answer; with one it is not: a `Local/`
    /// member's half can answer just as the caller gives up, and the call
    /// was never connected.
    half_answered: bool,
    placed: bool,
    placed_answered: bool,
    /// An answered leg ran on its own channel: `own_talk` is its talk.
    own_answered: bool,
    /// Σ `billsec` of answered legs on its own channel.
    own_talk: i64,
    /// Σ `billsec` of answered legs that rang it.
    rung_talk: i64,
    /// Unanswered legs that rang it: from `Dial`, from `Queue`.
    missed_dial: u32,
    missed_queue: u32,
}

impl Part {
    fn merge(&mut self, o: Part) {
        self.rung |= o.rung;
        self.rang |= o.rang;
        self.rang_answered |= o.rang_answered;
        self.half_answered |= o.half_answered;
        self.placed |= o.placed;
        self.placed_answered |= o.placed_answered;
        self.own_answered |= o.own_answered;
        self.own_talk += o.own_talk;
        self.rung_talk += o.rung_talk;
        self.missed_dial += o.missed_dial;
        self.missed_queue += o.missed_queue;
    }
}

#[derive(Debug, Default)]
struct PerExtension {
    /// Its part in each call, by the call id's 64-bit hash: a day's calls
    /// are counted without keeping their ids (a collision between two of
    /// an extension's calls, about one in 10^9 for a million calls, would
    /// count them once).
    calls: FxHashMap<u64, Part>,
    /// The `uniqueid`s of answered `Queue` legs that rang it (the
    /// queue_log's callids), with their call's hash: few legs have one.
    queue_legs: Vec<(u64, String)>,
    first_start: Option<NaiveDateTime>,
    last_end: Option<NaiveDateTime>,
}

/// A call id's 64-bit hash (SipHash with fixed keys: the same in both
/// halves of a window, which are merged by it).
fn call_hash(call: &str) -> u64 {
    std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
        .hash_one(call)
}

/// Accumulates [`ExtensionKpi`]s from a stream of rows.
#[derive(Debug, Default)]
pub struct ExtensionKpis {
    rule: ExtensionRule,
    /// Each extension's place in `exts`.
    index: FxHashMap<Box<str>, usize>,
    /// The extensions met, in the order met, with their parts.
    exts: Vec<(Box<str>, PerExtension)>,
}

impl ExtensionKpis {
    /// An empty accumulator recognising extensions by `rule`.
    pub fn new(rule: ExtensionRule) -> Self {
        ExtensionKpis {
            rule,
            index: FxHashMap::default(),
            exts: Vec::new(),
        }
    }

    /// Counts one CDR leg for the extension on its destination channel and
    /// the one on its source channel (once when they are the same).
    pub fn add(&mut self, r: &CdrRecord) {
        let callee = self.rule.extension_of(&r.dstchannel);
        let own = self.rule.extension_of(&r.channel);
        let answered = Disposition::parse(&r.disposition) == Some(Disposition::Answered);
        let queue = r.lastapp.eq_ignore_ascii_case("Queue");
        let call = call_hash(call_id(r));
        // A queue member's `Local/…;2` half runs for a call that rang it;
        // any other channel of an extension placed the leg.
        let member_half = r.channel.starts_with("Local/") && r.channel.ends_with(";2");
        if let Some(ext) = own {
            let p = self.part(ext, call, r);
            if member_half {
                p.rung = true;
                p.half_answered |= answered;
            } else {
                p.placed = true;
                p.placed_answered |= answered;
            }
            if answered {
                p.own_answered = true;
                p.own_talk += r.billsec_s;
            }
        }
        if let Some(ext) = callee.filter(|c| Some(*c) != own) {
            let p = self.part(ext, call, r);
            p.rung = true;
            p.rang = true;
            p.rang_answered |= answered;
            match (answered, queue) {
                (true, _) => p.rung_talk += r.billsec_s,
                (false, true) => p.missed_queue += 1,
                (false, false) => p.missed_dial += 1,
            }
            if answered && queue {
                self.extension(ext)
                    .queue_legs
                    .push((call, r.uniqueid.clone()));
            }
        }
    }

    /// `ext`'s record, added when met for the first time (no key is
    /// allocated for a known one).
    fn extension(&mut self, ext: &str) -> &mut PerExtension {
        let i = match self.index.get(ext) {
            Some(&i) => i,
            None => {
                self.exts.push((ext.into(), PerExtension::default()));
                self.index.insert(ext.into(), self.exts.len() - 1);
                self.exts.len() - 1
            }
        };
        &mut self.exts[i].1
    }

    /// `ext`'s part in the call whose id hashes to `call`, with `r`'s span
    /// counted in the extension's first start and last end.
    fn part(&mut self, ext: &str, call: u64, r: &CdrRecord) -> &mut Part {
        let e = self.extension(ext);
        if let (Some(start), Some(end)) = (r.start, r.end()) {
            e.first_start = Some(e.first_start.map_or(start, |f| f.min(start)));
            e.last_end = Some(e.last_end.map_or(end, |l| l.max(end)));
        }
        e.calls.entry(call).or_default()
    }

    /// Adds the legs counted by `other`.
    pub fn merge(&mut self, other: ExtensionKpis) {
        for (ext, o) in other.exts {
            let e = self.extension(&ext);
            e.first_start = e.first_start.into_iter().chain(o.first_start).min();
            e.last_end = e.last_end.into_iter().chain(o.last_end).max();
            for (call, part) in o.calls {
                e.calls.entry(call).or_default().merge(part);
            }
            e.queue_legs.extend(o.queue_legs);
        }
    }

    /// The KPIs, by extension; `only` keeps the listed extensions. With the
    /// window's `queue_log`, queue calls take their talk time and wrap-up
    /// from it and queue misses are its `RINGNOANSWER`s, credited to the
    /// extension of the agent who rang (`names`, or learned from the calls
    /// the agent answered on this extension).
    pub fn finish(
        mut self,
        only: Option<&[String]>,
        queue_log: Option<&QueueLog>,
        names: &AgentNames,
    ) -> Vec<ExtensionKpi> {
        for (_, e) in &mut self.exts {
            e.queue_legs.sort_unstable_by_key(|(call, _)| *call);
        }
        let mut learned: HashMap<&str, &str> = HashMap::new();
        let mut kpis: Vec<ExtensionKpi> = Vec::with_capacity(self.exts.len());
        let mut by_ext: Vec<&(Box<str>, PerExtension)> = self.exts.iter().collect();
        by_ext.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (ext, e) in by_ext {
            let mut k = ExtensionKpi {
                extension: ext.to_string(),
                first_start: e.first_start,
                last_end: e.last_end,
                ..ExtensionKpi::default()
            };
            for (call, p) in &e.calls {
                let answered = if p.rang {
                    p.rang_answered
                } else {
                    p.half_answered
                };
                k.calls += 1;
                k.rung += u64::from(p.rung);
                k.answered += u64::from(answered);
                k.placed += u64::from(p.placed);
                k.missed += u64::from(p.missed_dial)
                    + if queue_log.is_some() {
                        0
                    } else {
                        u64::from(p.missed_queue)
                    };
                if !(answered || p.placed_answered) {
                    continue;
                }
                k.handled += 1;
                // Sorted by call below: this call's legs are one run.
                let first = e.queue_legs.partition_point(|(c, _)| c < call);
                let queued = e.queue_legs[first..]
                    .iter()
                    .take_while(|(c, _)| c == call)
                    .filter_map(|(_, id)| queue_log.and_then(|q| q.calls.get(id)));
                let (mut talk, mut acw, mut known) = (0i64, 0i64, false);
                for c in queued {
                    learned.entry(c.agent.as_str()).or_insert(ext);
                    if let Some(t) = c.talk_s {
                        talk += i64::try_from(t).unwrap_or(i64::MAX);
                        acw += i64::from(c.wrapup_s);
                        known = true;
                    }
                }
                k.talk_s += match (p.own_answered, known) {
                    (true, _) => p.own_talk,
                    (false, true) => talk,
                    (false, false) => p.rung_talk,
                };
                k.acw_s += acw;
            }
            kpis.push(k);
        }
        if let Some(q) = queue_log {
            for (agent, n) in &q.ring_no_answer {
                let ext = names
                    .extension(agent)
                    .or_else(|| learned.get(agent.as_str()).map(|e| e.to_string()));
                if let Some(k) = ext.and_then(|e| kpis.iter_mut().find(|k| k.extension == e)) {
                    k.missed += n;
                }
            }
        }
        kpis.retain(|k| only.is_none_or(|o| o.contains(&k.extension)));
        for k in &mut kpis {
            k.tht_s = k.talk_s + k.acw_s;
            k.aht_s = (k.handled > 0).then(|| k.tht_s as f64 / k.handled as f64);
        }
        kpis
    }
}

/// The KPIs of every extension `filter` lets its user see, from the CDR
/// rows in its window and, when given, the same window's queue_log: the
/// one implementation the pane, `switchboard kpi` and its JSON share.
///
/// Errors: the query fails.
pub async fn extension_kpis(
    store: &CdrStore,
    filter: &CdrFilter,
    queue_log: Option<&QueueLog>,
    names: &AgentNames,
) -> Result<Vec<ExtensionKpi>, CdrError> {
    // Two halves of the window read on two connections at once: the
    // database's row reads, not the counting, bound this query.
    let mid = filter.from + (filter.to - filter.from) / 2;
    let (mut first, mut second) = (filter.clone(), filter.clone());
    first.to = mid;
    second.from = mid;
    let (a, b) = futures_util::try_join!(half(store, &first), half(store, &second))?;
    let mut acc = a;
    acc.merge(b);
    Ok(acc.finish(filter.visibility.extensions(), queue_log, names))
}

async fn half(store: &CdrStore, filter: &CdrFilter) -> Result<ExtensionKpis, CdrError> {
    let mut acc = ExtensionKpis::new(filter.extension_rule.clone());
    store
        .for_each(filter, &FIELDS, |rec| {
            acc.add(rec);
            Ok(())
        })
        .await?;
    Ok(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Visibility;
    use crate::cdr::queue_log::{QueueKpiSettings, read};

    struct Leg<'a> {
        channel: &'a str,
        dstchannel: &'a str,
        lastapp: &'a str,
        disposition: &'a str,
        billsec: i64,
        uniqueid: &'a str,
        linkedid: &'a str,
    }

    fn rec(l: &Leg<'_>) -> CdrRecord {
        CdrRecord {
            channel: l.channel.into(),
            dstchannel: l.dstchannel.into(),
            lastapp: l.lastapp.into(),
            disposition: l.disposition.into(),
            billsec_s: l.billsec,
            duration_s: l.billsec + 5,
            uniqueid: l.uniqueid.into(),
            linkedid: l.linkedid.into(),
            start: NaiveDateTime::parse_from_str("2026-11-21 09:00:00", "%Y-%m-%d %H:%M:%S").ok(),
            ..CdrRecord::default()
        }
    }

    fn rule() -> ExtensionRule {
        ExtensionRule {
            member_contexts: vec!["agents".into()],
            ..ExtensionRule::default()
        }
    }

    /// The lab's shape of a queue call: the customer's originate (`;1`),
    /// the customer's leg into the queue (its billsec counts the wait), and
    /// the agent's own half (`;2`) with the real talk.
    fn queue_call(k: &mut ExtensionKpis, id: &str, agent: &str, waited: i64, talk: i64) {
        let member = format!("Local/{agent}@agents-0000000{id};1");
        let half = format!("Local/{agent}@agents-0000000{id};2");
        let (queue_leg, call) = (format!("{id}.2"), format!("{id}.1"));
        for l in [
            Leg {
                channel: "Local/5552787@callers-support-000004f2;1",
                dstchannel: "",
                lastapp: "Wait",
                disposition: "ANSWERED",
                billsec: waited + talk + 1,
                uniqueid: &call,
                linkedid: &call,
            },
            Leg {
                channel: "Local/5552787@callers-support-000004f2;2",
                dstchannel: &member,
                lastapp: "Queue",
                disposition: "ANSWERED",
                billsec: waited + talk,
                uniqueid: &queue_leg,
                linkedid: &call,
            },
            Leg {
                channel: &half,
                dstchannel: "",
                lastapp: "Wait",
                disposition: "ANSWERED",
                billsec: talk,
                uniqueid: &format!("{id}.3"),
                linkedid: &call,
            },
        ] {
            k.add(&rec(&l));
        }
    }

    #[test]
    fn queue_agents_count_calls_and_their_own_talk() {
        let mut k = ExtensionKpis::new(rule());
        queue_call(&mut k, "1", "201", 20, 4);
        queue_call(&mut k, "2", "201", 30, 6);
        let all = k.finish(None, None, &AgentNames::default());
        assert_eq!(all.len(), 1, "the customer is not an extension: {all:?}");
        let e = &all[0];
        assert_eq!(
            (e.calls, e.rung, e.answered, e.handled, e.missed),
            (2, 2, 2, 2, 0),
            "one call per call, not per leg"
        );
        // Talk from the agent's own half: 4 + 6, not the queue legs' 24 + 36.
        assert_eq!((e.talk_s, e.tht_s, e.aht_s), (10, 10, Some(5.0)));
    }

    #[test]
    fn a_member_half_answering_as_the_caller_gives_up_is_no_answer() {
        let mut k = ExtensionKpis::new(rule());
        for l in [
            Leg {
                channel: "Local/5559064324@customers-000002e0;1",
                dstchannel: "Local/202@agents-000002ed;1",
                lastapp: "Queue",
                disposition: "NO ANSWER",
                billsec: 12,
                uniqueid: "sb-3",
                linkedid: "sb-3",
            },
            Leg {
                channel: "Local/202@agents-000002ed;2",
                dstchannel: "",
                lastapp: "Answer",
                disposition: "ANSWERED",
                billsec: 0,
                uniqueid: "5.1",
                linkedid: "sb-3",
            },
        ] {
            k.add(&rec(&l));
        }
        let e = &k.finish(None, None, &AgentNames::default())[0];
        assert_eq!((e.rung, e.answered, e.handled, e.missed), (1, 0, 0, 1));
    }

    #[test]
    fn phones_take_queue_talk_and_misses_from_the_queue_log() {
        let phone = |k: &mut ExtensionKpis| {
            for l in [
                Leg {
                    channel: "PJSIP/trunk-00000001",
                    dstchannel: "PJSIP/301-00000002",
                    lastapp: "Queue",
                    disposition: "ANSWERED",
                    billsec: 45,
                    uniqueid: "7.1",
                    linkedid: "7.1",
                },
                Leg {
                    channel: "PJSIP/trunk-00000003",
                    dstchannel: "PJSIP/301-00000004",
                    lastapp: "Dial",
                    disposition: "NO ANSWER",
                    billsec: 0,
                    uniqueid: "8.1",
                    linkedid: "8.1",
                },
                Leg {
                    channel: "PJSIP/301-00000005",
                    dstchannel: "PJSIP/provider-00000006",
                    lastapp: "Dial",
                    disposition: "ANSWERED",
                    billsec: 30,
                    uniqueid: "9.1",
                    linkedid: "9.1",
                },
            ] {
                k.add(&rec(&l));
            }
        };
        // Without the queue_log: the queue leg's billsec (wait included).
        let mut k = ExtensionKpis::new(ExtensionRule::default());
        phone(&mut k);
        let e = &k.finish(None, None, &AgentNames::default())[0];
        assert_eq!(
            (e.calls, e.rung, e.answered, e.placed, e.handled, e.missed),
            (3, 2, 1, 1, 2, 1)
        );
        assert_eq!(e.talk_s, 75);
        // With it: the call waited 35 s and talked 10; Desk 301 also let two
        // queue rings time out; the queue's wrap-up is 5 s.
        let log = "\
100|7.1|support|NONE|ENTERQUEUE||5550001|1
120|7.1|support|Desk 301|RINGNOANSWER|15000
135|7.1|support|Desk 301|RINGNOANSWER|15000
135|7.1|support|Desk 301|CONNECT|35|7.2|1
145|7.1|support|Desk 301|COMPLETECALLER|35|10|1
";
        let mut s = QueueKpiSettings::default();
        s.targets.queues.insert(
            "support".into(),
            crate::service_level::QueueTarget {
                wrapup_s: Some(5),
                ..Default::default()
            },
        );
        let q =
            read(log.as_bytes(), 0, 200, &Visibility::All, &s).unwrap_or_else(|e| panic!("{e}"));
        let mut k = ExtensionKpis::new(ExtensionRule::default());
        phone(&mut k);
        let e = &k.finish(None, Some(&q), &AgentNames::default())[0];
        assert_eq!((e.talk_s, e.acw_s, e.tht_s), (40, 5, 45));
        assert_eq!(e.aht_s, Some(22.5));
        assert_eq!(
            e.missed, 3,
            "1 Dial leg + 2 queue rings, the agent learned from its answer"
        );
    }

    #[test]
    fn halves_of_a_call_merge_into_one_call() {
        let mut a = ExtensionKpis::new(rule());
        let mut b = ExtensionKpis::new(rule());
        queue_call(&mut a, "1", "201", 20, 4);
        queue_call(&mut b, "1", "201", 20, 4);
        a.merge(b);
        let e = &a.finish(None, None, &AgentNames::default())[0];
        assert_eq!((e.calls, e.answered), (1, 1));
        assert_eq!(e.talk_s, 8, "both halves' own legs count");
        let none =
            ExtensionKpis::new(rule()).finish(Some(&["201".into()]), None, &AgentNames::default());
        assert!(none.is_empty());
    }
}
