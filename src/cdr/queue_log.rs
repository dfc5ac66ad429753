//! Per-queue KPIs from Asterisk's queue_log file
//! (`epoch|callid|queue|agent|event|data1|data2|data3…`, one line per queue
//! event). Formulas in docs/kpi.md ("Queue KPIs"), implemented only here.

use serde::Serialize;
use std::collections::BTreeMap;
use std::io::BufRead;

/// Thresholds for the queue KPIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueKpiSettings {
    /// Service-level threshold T, seconds: answered within T counts.
    pub service_level_s: u32,
    /// Abandons with a wait below this are "short" and left out of the
    /// service level (the caller hung up before anyone could answer).
    pub short_abandon_s: u32,
    /// Staffing advice (Erlang C, [`crate::staffing`]) is computed from the
    /// arrivals and talk times of this many seconds before the window's
    /// end.
    pub staffing_window_s: u32,
    /// The end of that window, seconds since the Unix epoch (UTC); `None`:
    /// the end of the KPI range.
    pub staffing_until: Option<i64>,
    /// The service-level goal the advice staffs for: this percent of calls
    /// answered within `service_level_s`.
    pub sl_goal_percent: u8,
}

impl Default for QueueKpiSettings {
    /// T = 20 s, abandons under 5 s are short, staffing for 80 % within T
    /// from the last 30 minutes: the CLI's defaults too.
    fn default() -> Self {
        QueueKpiSettings {
            service_level_s: 20,
            short_abandon_s: 5,
            staffing_window_s: 1800,
            staffing_until: None,
            sl_goal_percent: 80,
        }
    }
}

/// KPIs of one queue over a window.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
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
    /// Calls that left unanswered otherwise (`EXITWITHTIMEOUT`, `EXITEMPTY`,
    /// `EXITWITHKEY`).
    pub exited: u64,
    /// Answered within T / (answered + abandoned − short abandoned) × 100.
    pub service_level: Option<f64>,
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
    answered_in_sl: u64,
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

fn field(parts: &[&str], i: usize) -> u64 {
    parts
        .get(i)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Reads queue_log lines from `input`, keeping events with `from <= epoch <
/// to` (seconds since the Unix epoch, UTC) and, when `queues` is given, only
/// those queues. Lines that are not queue_log lines are skipped and counted.
///
/// Returns the KPIs by queue and the number of skipped lines.
/// Errors: reading `input` fails.
pub fn queue_kpis(
    input: impl BufRead,
    from: i64,
    to: i64,
    queues: Option<&[String]>,
    s: QueueKpiSettings,
) -> std::io::Result<(Vec<QueueKpi>, u64)> {
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    let mut skipped = 0;
    let window_end = s.staffing_until.unwrap_or(to).min(to);
    let window_start = (window_end - i64::from(s.staffing_window_s)).max(from);
    let window_s = u32::try_from((window_end - window_start).max(0)).unwrap_or(u32::MAX);
    for line in input.split(b'\n') {
        let line = String::from_utf8_lossy(&line?).into_owned();
        let parts: Vec<&str> = line.trim_end_matches('\r').split('|').collect();
        let (Some(epoch), Some(queue), Some(event)) = (
            parts.first().and_then(|e| e.parse::<i64>().ok()),
            parts.get(2),
            parts.get(4),
        ) else {
            skipped += u64::from(!line.trim().is_empty());
            continue;
        };
        if epoch < from
            || epoch >= to
            || *queue == "NONE"
            || queues.is_some_and(|q| !q.iter().any(|n| n == queue))
        {
            continue;
        }
        let a = acc.entry(queue.to_string()).or_default();
        let in_window = epoch >= window_start && epoch < window_end;
        match *event {
            "ENTERQUEUE" => {
                a.kpi.offered += 1;
                a.window_arrivals += u64::from(in_window);
            }
            "COMPLETEAGENT" | "COMPLETECALLER" if in_window => {
                a.window_talk_s += field(&parts, 6);
                a.window_completed += 1;
            }
            "CONNECT" => {
                let hold = field(&parts, 5);
                a.kpi.answered += 1;
                a.hold_sum += hold;
                a.answered_in_sl += u64::from(hold <= u64::from(s.service_level_s));
                a.wait(hold);
            }
            "ABANDON" => {
                let wait = field(&parts, 7);
                a.kpi.abandoned += 1;
                a.kpi.short_abandoned += u64::from(wait < u64::from(s.short_abandon_s));
                a.wait(wait);
            }
            "EXITWITHTIMEOUT" | "EXITEMPTY" => {
                a.kpi.exited += 1;
                a.wait(field(&parts, 7));
            }
            "EXITWITHKEY" => {
                a.kpi.exited += 1;
                a.wait(field(&parts, 8));
            }
            _ => {}
        }
    }
    let kpis = acc
        .into_iter()
        .map(|(queue, a)| {
            let mut k = a.kpi;
            k.queue = queue;
            let base = k.answered + k.abandoned - k.short_abandoned;
            k.service_level = (base > 0).then(|| a.answered_in_sl as f64 * 100.0 / base as f64);
            k.asa_s = (k.answered > 0).then(|| a.hold_sum as f64 / k.answered as f64);
            k.avg_wait_s = (a.waits > 0).then(|| a.wait_sum as f64 / a.waits as f64);
            k.staffing = crate::staffing::Advice::new(
                a.window_arrivals,
                a.window_talk_s,
                a.window_completed,
                window_s,
                f64::from(s.service_level_s),
                f64::from(s.sl_goal_percent) / 100.0,
            );
            k
        })
        .collect();
    Ok((kpis, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn by_hand() {
        let s = QueueKpiSettings::default();
        let (k, skipped) =
            queue_kpis(LOG.as_bytes(), 0, 500, None, s).unwrap_or_else(|e| panic!("{e}"));
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
        // In SL: the 5 s answer only; base = 2 answered + 2 abandoned − 1 short.
        assert_eq!(
            sales.service_level.map(|v| (v * 100.0).round() / 100.0),
            Some(33.33)
        );
        assert_eq!(sales.asa_s, Some(17.5));
        // Waits: 5, 30, 2, 40.
        assert_eq!(
            (sales.avg_wait_s, sales.longest_wait_s),
            (Some(19.25), Some(40))
        );
        let support = &k[1];
        assert_eq!(
            (support.offered, support.exited, support.service_level),
            (1, 1, None)
        );
        let (only, _) = queue_kpis(LOG.as_bytes(), 0, 500, Some(&["support".into()]), s)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(only.len(), 1);
    }

    #[test]
    fn staffing_advice_from_the_window_before_the_end() {
        // The range is shorter than the 30-minute window: all of it, 500 s.
        let (k, _) = queue_kpis(LOG.as_bytes(), 0, 500, None, QueueKpiSettings::default())
            .unwrap_or_else(|e| panic!("{e}"));
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
            staffing_until: Some(200),
            ..QueueKpiSettings::default()
        };
        let (k, _) = queue_kpis(LOG.as_bytes(), 0, 500, None, s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(k[0].staffing.window_calls_per_hour, 144.0);
        assert_eq!(k[0].staffing.window_erlangs, Some(4.0 / 100.0 * 32.5));
        assert_eq!(k[0].staffing.agents_needed, Some(3));
    }
}
