//! Per-queue KPIs from queue_log events. Formulas in docs/kpi.md ("Queue
//! KPIs"), implemented only here.

use super::{Line, QueueKpiSettings};
use crate::service_level::{SlCounts, SlVariant};
use serde::Serialize;
use std::collections::BTreeMap;

/// KPIs of one queue over a window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct QueueKpi {
    /// Queue name.
    pub queue: String,
    /// Calls that entered the queue (`ENTERQUEUE`).
    pub offered: u64,
    /// Calls answered by a member (`CONNECT`).
    pub answered: u64,
    /// Callers who hung up while waiting (`ABANDON`), short ones included.
    pub abandoned: u64,
    /// Of `abandoned`, those that waited less than the short-abandon limit.
    pub short_abandoned: u64,
    /// Calls that left unanswered otherwise, their own bucket: timed out
    /// (`EXITWITHTIMEOUT`), no member left (`EXITEMPTY`), a key pressed
    /// (`EXITWITHKEY`).
    pub exited: u64,
    /// Of `exited`, the timeouts (`EXITWITHTIMEOUT`).
    pub timed_out: u64,
    /// T, seconds: the service-level threshold this queue is judged by.
    pub sl_seconds: u32,
    /// The variant `service_level` is (`[kpi] sl`, per queue).
    pub sl_variant: SlVariant,
    /// The queue's service level, %, in `sl_variant`.
    pub service_level: Option<f64>,
    /// Asterisk's SL: answered within T / answered × 100.
    pub sl: Option<f64>,
    /// Asterisk's SL2: (answered + abandoned within T) / (answered +
    /// abandoned) × 100.
    pub sl2: Option<f64>,
    /// Answered within T / offered × 100.
    pub sl_offered: Option<f64>,
    /// ASA: mean hold time of answered calls, seconds.
    pub asa_s: Option<f64>,
    /// Mean wait over answered, abandoned and exited calls, seconds.
    pub avg_wait_s: Option<f64>,
    /// Longest wait over the same calls, seconds.
    pub longest_wait_s: Option<u64>,
    /// Staffing advice from the staffing window (Erlang C).
    #[serde(flatten)]
    pub staffing: crate::staffing::Advice,
}

#[derive(Default)]
struct Acc {
    kpi: QueueKpi,
    sl: SlCounts,
    hold_sum: u64,
    wait_sum: u64,
    waits: u64,
    /// In the staffing window: arrivals, and talk time of calls completed.
    window_arrivals: u64,
    window_talk_s: u64,
    window_completed: u64,
}

impl Acc {
    fn wait(&mut self, w: u64) {
        self.wait_sum += w;
        self.waits += 1;
        self.kpi.longest_wait_s = Some(self.kpi.longest_wait_s.unwrap_or(0).max(w));
    }
}

/// Counts queue events into [`QueueKpi`]s.
pub(super) struct Counter<'s> {
    by_queue: BTreeMap<String, Acc>,
    s: &'s QueueKpiSettings,
    window: (i64, i64),
}

impl<'s> Counter<'s> {
    /// A counter for the window `[from, to)`, epoch seconds.
    pub(super) fn new(from: i64, to: i64, s: &'s QueueKpiSettings) -> Self {
        let end = s.now.unwrap_or(to).min(to);
        let start = (end - i64::from(s.staffing_window_s)).max(from);
        Counter {
            by_queue: BTreeMap::new(),
            s,
            window: (start, end),
        }
    }

    /// Counts one line of the window.
    pub(super) fn add(&mut self, line: &Line<'_>) {
        if line.queue == "NONE" {
            return;
        }
        let s = self.s;
        let a = self.by_queue.entry(line.queue.to_string()).or_default();
        let t = u64::from(s.targets.sl_seconds(line.queue, s.service_level_s));
        let in_window = line.epoch >= self.window.0 && line.epoch < self.window.1;
        match line.event {
            "ENTERQUEUE" => {
                a.kpi.offered += 1;
                a.window_arrivals += u64::from(in_window);
            }
            "COMPLETEAGENT" | "COMPLETECALLER" if in_window => {
                // Handle time: talk plus the queue's wrap-up.
                a.window_talk_s += line.number(2) + u64::from(s.targets.wrapup_s(line.queue));
                a.window_completed += 1;
            }
            "CONNECT" => {
                let hold = line.number(1);
                a.kpi.answered += 1;
                a.hold_sum += hold;
                a.sl.answered_in_sl += u64::from(hold <= t);
                a.wait(hold);
            }
            "ABANDON" => {
                let wait = line.number(3);
                a.kpi.abandoned += 1;
                a.kpi.short_abandoned += u64::from(wait < u64::from(s.short_abandon_s));
                a.sl.abandoned_in_sl += u64::from(wait <= t);
                a.wait(wait);
            }
            "EXITWITHTIMEOUT" | "EXITEMPTY" => {
                a.kpi.exited += 1;
                a.kpi.timed_out += u64::from(line.event == "EXITWITHTIMEOUT");
                a.wait(line.number(3));
            }
            "EXITWITHKEY" => {
                a.kpi.exited += 1;
                a.wait(line.number(4));
            }
            _ => {}
        }
    }

    /// The KPIs, by queue name.
    pub(super) fn finish(self) -> Vec<QueueKpi> {
        let (s, window) = (self.s, self.window);
        let window_s = u32::try_from((window.1 - window.0).max(0)).unwrap_or(u32::MAX);
        self.by_queue
            .into_iter()
            .map(|(queue, a)| {
                let mut k = a.kpi;
                let c = SlCounts {
                    offered: k.offered,
                    answered: k.answered,
                    abandoned: k.abandoned,
                    ..a.sl
                };
                k.sl_seconds = s.targets.sl_seconds(&queue, s.service_level_s);
                k.sl_variant = s.targets.variant(&queue);
                k.sl = c.percent(SlVariant::Sl);
                k.sl2 = c.percent(SlVariant::Sl2);
                k.sl_offered = (k.offered > 0)
                    .then(|| c.percent(SlVariant::Offered))
                    .flatten();
                k.service_level = match k.sl_variant {
                    SlVariant::Sl => k.sl,
                    SlVariant::Sl2 => k.sl2,
                    SlVariant::Offered => k.sl_offered,
                };
                k.asa_s = (k.answered > 0).then(|| a.hold_sum as f64 / k.answered as f64);
                k.avg_wait_s = (a.waits > 0).then(|| a.wait_sum as f64 / a.waits as f64);
                k.staffing = crate::staffing::Advice::new(
                    a.window_arrivals,
                    a.window_talk_s,
                    a.window_completed,
                    window_s,
                    f64::from(k.sl_seconds),
                    f64::from(s.sl_goal_percent) / 100.0,
                );
                k.queue = queue;
                k
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Visibility;
    use crate::service_level::QueueTarget;

    const LOG: &str = "\
100|1.1|sales|NONE|ENTERQUEUE||5550001|1
105|1.1|sales|Alice|CONNECT|5|1.2|2
110|1.3|sales|NONE|ENTERQUEUE||5550002|1
120|1.1|sales|Alice|COMPLETEAGENT|5|15|1
140|1.3|sales|Bob|CONNECT|30|1.4|2
190|1.3|sales|Bob|COMPLETECALLER|30|50|1
150|1.5|sales|NONE|ENTERQUEUE||5550003|1
152|1.5|sales|NONE|ABANDON|1|1|2
160|1.6|sales|NONE|ENTERQUEUE||5550004|1
200|1.6|sales|NONE|ABANDON|1|1|40
210|1.7|support|NONE|ENTERQUEUE||5550005|1
270|1.7|support|NONE|EXITWITHTIMEOUT|1|1|60
garbage line
999|1.8|sales|NONE|ENTERQUEUE||5550006|1
";

    fn read(s: &QueueKpiSettings) -> (Vec<QueueKpi>, u64) {
        let log = super::super::read(LOG.as_bytes(), 0, 500, &Visibility::All, s)
            .unwrap_or_else(|e| panic!("{e}"));
        (log.queues, log.skipped)
    }

    #[test]
    fn by_hand() {
        let (k, skipped) = read(&QueueKpiSettings::default());
        assert_eq!(skipped, 1);
        let sales = &k[0];
        assert_eq!(
            (
                sales.offered,
                sales.answered,
                sales.abandoned,
                sales.short_abandoned
            ),
            (4, 2, 2, 1)
        );
        // T = 20: answered within T: the 5 s one; abandoned within T: the
        // 2 s one.
        assert_eq!(
            (sales.sl, sales.sl2, sales.sl_offered),
            (Some(50.0), Some(50.0), Some(25.0))
        );
        assert_eq!(sales.sl_variant, SlVariant::Offered);
        assert_eq!(sales.service_level, Some(25.0));
        assert_eq!(sales.asa_s, Some(17.5));
        // Waits: 5, 30, 2, 40.
        assert_eq!(
            (sales.avg_wait_s, sales.longest_wait_s),
            (Some(19.25), Some(40))
        );
        let support = &k[1];
        assert_eq!(
            (
                support.offered,
                support.exited,
                support.timed_out,
                support.sl2,
                support.sl_offered
            ),
            (1, 1, 1, None, Some(0.0)),
            "a timeout is in no variant but the one over offered calls"
        );
        let only = super::super::read(
            LOG.as_bytes(),
            0,
            500,
            &Visibility::Restricted {
                extensions: vec![],
                queues: vec!["support".into()],
            },
            &QueueKpiSettings::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(only.queues.len(), 1);
    }

    #[test]
    fn each_queue_is_judged_by_its_own_variant_and_threshold() {
        let mut s = QueueKpiSettings::default();
        s.targets.queues.insert(
            "sales".into(),
            QueueTarget {
                sl: Some(SlVariant::Offered),
                sl_seconds: Some(30),
                wrapup_s: None,
            },
        );
        let (k, _) = read(&s);
        let sales = &k[0];
        // T = 30: both answers within T (5, 30 s), one abandon (2 s).
        assert_eq!(
            (sales.sl, sales.sl2, sales.sl_offered),
            (Some(100.0), Some(75.0), Some(50.0))
        );
        assert_eq!(
            (sales.sl_seconds, sales.sl_variant, sales.service_level),
            (30, SlVariant::Offered, Some(50.0))
        );
        assert_eq!(k[1].sl_seconds, 20, "support keeps the default");
    }

    #[test]
    fn staffing_advice_from_the_window_before_the_end() {
        // The range is shorter than the 30-minute window: all of it, 500 s.
        let (k, _) = read(&QueueKpiSettings::default());
        let sales = &k[0].staffing;
        // 4 arrivals in 500 s; talk 15 and 50 s.
        assert_eq!(sales.window_calls_per_hour, 28.8);
        assert_eq!(sales.window_aht_s, Some(32.5));
        // 0.26 erlangs: one agent answers 83.5 % within 20 s.
        assert_eq!(sales.agents_needed, Some(1));
        assert_eq!(
            k[1].staffing.agents_needed, None,
            "support completed nothing"
        );
        // A 100-second window ending at 200: the same 4 arrivals, 4× the rate.
        let s = QueueKpiSettings {
            staffing_window_s: 100,
            now: Some(200),
            ..QueueKpiSettings::default()
        };
        let (k, _) = read(&s);
        assert_eq!(k[0].staffing.window_calls_per_hour, 144.0);
        assert_eq!(k[0].staffing.window_erlangs, Some(4.0 / 100.0 * 32.5));
        assert_eq!(k[0].staffing.agents_needed, Some(3));
    }
}
